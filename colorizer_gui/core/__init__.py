"""The core: colour maths, photo I/O, pipeline and batch jobs.

Plain functions on numpy arrays. Nothing here imports the GUI or torch.
"""
