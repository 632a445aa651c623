"""A local HTTP server for download tests (nothing leaves the machine)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server:
    """Serves ``files[path] = bytes`` with Range support; ``mode`` bends the rules
    for every path, ``modes[path]`` for one: "wrong" (other bytes), "truncated"
    (hang up half way), "loop" (redirect back and forth forever)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.mode = "good"
        self.modes: dict[str, str] = {}
        self.ranges: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                mode = owner.modes.get(self.path.rstrip("~"), owner.mode)
                if mode == "loop":  # /x -> /x~ -> /x -> ...
                    self.send_response(302)
                    self.send_header("Location", self.path[:-1] if self.path.endswith("~") else self.path + "~")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if mode == "wrong":
                    body = bytes(reversed(body))
                start = 0
                header = self.headers.get("Range")
                if header:
                    owner.ranges.append(header)
                    start = int(header.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if mode == "truncated":  # promise everything, send half, hang up
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
