"""A small reader for Caffe's prototxt (protobuf text format), enough for the
Zhang deploy net: used to check our net description against the release and to
build random-weight test models of the right shapes. No protobuf dependency.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

Value = Union[str, int, float, "Message"]
Message = list[tuple[str, Value]]

# Strings (single or double quoted), braces, colons, and bare words/numbers.
_TOKEN = re.compile(r"""\s+|\#[^\n]*|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}:]|[^\s{}:#"']+)""")


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read prototxt near: {text[pos:pos + 40]!r}")
        if match.group(1):
            out.append(match.group(1))
        pos = match.end()
    return out


def _scalar(token: str) -> Union[str, int, float]:
    if token[0] in "\"'":
        return token[1:-1]
    for kind in (int, float):
        try:
            return kind(token)
        except ValueError:
            pass
    return token  # an enum name or true/false


def parse_prototxt(text: str) -> Message:
    """Parse protobuf text into an ordered list of (field, value) pairs; nested
    messages are lists of pairs themselves."""
    tokens = _tokens(text)
    stack: list[Message] = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "}":
            if len(stack) == 1:
                raise ValueError("unbalanced '}' in prototxt")
            stack.pop()
            i += 1
            continue
        key = tok
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt == ":" and i + 2 < len(tokens) and tokens[i + 2] != "{":
            stack[-1].append((key, _scalar(tokens[i + 2])))
            i += 3
        elif nxt == "{" or (nxt == ":" and tokens[i + 2] == "{"):
            child: Message = []
            stack[-1].append((key, child))
            stack.append(child)
            i += 2 if nxt == "{" else 3
        else:
            raise ValueError(f"unexpected token {tok!r} in prototxt")
    if len(stack) != 1:
        raise ValueError("unbalanced '{' in prototxt")
    return stack[0]


@dataclass
class Layer:
    """One layer of a net: name, type, inputs, outputs and its other settings
    flattened to dotted paths (``convolution_param.num_output`` -> [64])."""

    name: str
    type: str
    bottom: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)
    params: dict[str, list] = field(default_factory=dict)

    def param(self, path: str, default=None):
        """The first value at ``path`` or ``default``."""
        values = self.params.get(path)
        return values[0] if values else default


def _flatten(message: Message, prefix: str, out: dict[str, list]) -> None:
    for key, value in message:
        path = f"{prefix}{key}"
        if isinstance(value, list):
            out.setdefault(path, []).append("{}")  # records that the block is present (e.g. empty ones)
            _flatten(value, path + ".", out)
        else:
            out.setdefault(path, []).append(value)


def read_layers(text: str) -> list[Layer]:
    """The ``layer { ... }`` blocks of a prototxt, in order."""
    layers = []
    for key, value in parse_prototxt(text):
        if key != "layer" or not isinstance(value, list):
            continue
        layer = Layer(name="", type="")
        for k, v in value:
            if k == "name":
                layer.name = str(v)
            elif k == "type":
                layer.type = str(v)
            elif k == "bottom":
                layer.bottom.append(str(v))
            elif k == "top":
                layer.top.append(str(v))
            elif isinstance(v, list):
                layer.params.setdefault(k, []).append("{}")
                _flatten(v, k + ".", layer.params)
            else:
                layer.params.setdefault(k, []).append(v)
        layers.append(layer)
    return layers
