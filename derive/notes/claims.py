"""Loading a claims file: YAML -> validated ``ClaimsFile`` with its ``Env`` built.

Everything that makes the file unusable raises ``InputError(problem, file=, line=)`` (one line,
exit status 2): missing, a directory, empty, not text, not YAML, an unknown key, an unknown
function, an impossible size, a definition that does not parse. Everything about a single claim
is left to the checker, which answers ``undecided`` rather than failing the file.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp
import yaml

from ..errors import InputError
from ..exprs import as_expr
from ..model import rules
from .generic import GenericEvaluator
from .meaning import (
    GENERIC,
    REGISTRY_FUNCTIONS,
    Entry,
    Env,
    Evaluator,
    MeaningError,
    index_range,
    is_matrix,
    make_key,
    registry_name,
    tokens_text,
)
from .notation import Call, Name, Node, ParseError, Pow, parse_chain, parse_expression
from .presets import PRESETS, NetworkSpec, PresetError, build_preset

__all__ = ["ClaimSpec", "ClaimsFile", "MAX_BYTES", "MAX_SIZE", "load_claims", "load_claims_bytes", "load_claims_text"]

TOP_KEYS = ("title", "symbols", "sizes", "network", "definitions", "claims")
CLAIM_KEYS = ("id", "latex", "note", "when", "expect", "why")
NETWORK_KEYS = ("notation", "layers", "hidden", "output", "loss", "l2")
MAX_SIZE = 64  # a size a claim is checked on as an instance, entry by entry
MAX_BYTES = 5_000_000
MAX_EXAMPLES = 4
# Each claim may take up to its time limit; a file is capped so that the whole check is bounded
# (1000 claims at the usual ~0.1-0.3 s is a few minutes).
MAX_CLAIMS = 1_000
EXAMPLE_DECLARATION = re.compile(r"example\[(.+)\]")


@dataclass
class ClaimSpec:
    """One claim as written: its id, LaTeX, optional note/when/expect and its line in the file."""

    id: str
    latex: str
    line: int
    note: str | None = None
    when: str | None = None
    expect: str | None = None
    section: int = 0  # which YAML document (context) of the file it belongs to


@dataclass
class ClaimsFile:
    """A claims file: the meaning of its symbols (``env``, definitions, preset) and its claims.

    A file may hold several YAML documents separated by ``---``: notes that change notation
    part-way give each part its own symbols, sizes, network and definitions. Then ``sections``
    lists one ClaimsFile per document, ``claims`` lists all their claims in order (each with its
    ``section``), and the top-level fields are the first document's."""

    path: str
    title: str | None
    env: Env
    claims: list[ClaimSpec]
    definitions: list[tuple[str, int]] = field(default_factory=list)
    network: NetworkSpec | None = None
    raw_symbols: dict[str, str] = field(default_factory=dict)
    m: int = 1
    sections: list[ClaimsFile] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # declared in symbols: (alias key -> target key)
    text: str = ""  # the YAML it was read from, to read it again at concrete sizes (at_sizes)
    section_index: int = 0

    def at_sizes(self, sizes: dict[str, int]) -> ClaimsFile:
        """This document again with its ``any`` sizes given the values ``sizes`` (an instance)."""
        full = load_claims_text(self.text, self.path, instance_sizes=sizes)
        return full.sections[self.section_index] if full.sections else full

    def context(self, spec: ClaimSpec) -> ClaimsFile:
        """The document whose symbols and definitions give ``spec`` its meaning."""
        return self.sections[spec.section] if self.sections else self

    def section_title(self, spec: ClaimSpec) -> str | None:
        """The title of the claim's section when the file has several, else None."""
        return (self.sections[spec.section].title or f"part {spec.section + 1}") if self.sections else None


def load_claims(path: str | os.PathLike[str]) -> ClaimsFile:
    """Read and validate the claims file at ``path`` (InputError when unusable)."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", file=name)
    if p.is_dir():
        raise InputError("is a directory, not a claims file", file=name)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", file=name) from None
    return load_claims_bytes(data, name)


def load_claims_bytes(data: bytes, name: str = "<claims>") -> ClaimsFile:
    """Validate a claims file given as bytes (standard input, a download); ``name`` is used in
    messages: too large, binary or not UTF-8 are one-line ``InputError``s like any other."""
    if len(data) > MAX_BYTES:
        raise InputError(f"too large for a claims file ({len(data)} bytes)", file=name)
    if b"\x00" in data:
        raise InputError("not a text file (binary data)", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start})", file=name) from None
    return load_claims_text(text, name)


def load_claims_text(text: str, name: str = "<claims>", instance_sizes: dict[str, int] | None = None) -> ClaimsFile:
    """Validate claims given as YAML text; ``name`` is used in messages. ``instance_sizes`` gives
    the sizes declared ``any`` a value (else they are symbols)."""
    if not text.strip():
        raise InputError("the file is empty", file=name)
    try:
        _check_nesting(text, name)
        roots = [doc for doc in yaml.compose_all(text, Loader=yaml.SafeLoader) if not _is_empty(doc)]
    except RecursionError:  # a last resort: _check_nesting keeps the composer far from the limit
        raise InputError("nested too deeply", file=name) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"not valid YAML: {problem}", file=name, line=mark.line + 1 if mark else None) from None
    if not roots:
        raise InputError("the file is empty", file=name)
    loader = _Loader(name, instance_sizes)
    sections = []
    for root in roots:
        if not isinstance(root, yaml.MappingNode):
            raise InputError("a claims file is a YAML mapping with a 'claims:' list", file=name, line=_line(root))
        sections.append(loader.load(root, section=len(sections)))
        sections[-1].text, sections[-1].section_index = text, len(sections) - 1
    if len(sections) == 1:
        return sections[0]
    first = sections[0]
    claims = [spec for part in sections for spec in part.claims]
    return ClaimsFile(
        name, first.title, first.env, claims, first.definitions, first.network, first.raw_symbols, first.m, sections,
        text=text,
    )


MAX_YAML_DEPTH = 50  # nested lists/mappings; a claims file needs about 5, PyYAML's composer recurses


def _check_nesting(text: str, name: str) -> None:
    """Refuse YAML nested more than ``MAX_YAML_DEPTH`` collections deep, before composing it:
    PyYAML's parser is iterative, but its composer recurses once per level (RecursionError)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise InputError(f"nested too deeply (more than {MAX_YAML_DEPTH} levels)", file=name, line=line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _is_empty(node: yaml.Node | None) -> bool:
    """An empty YAML document (nothing, or nothing but comments between two ``---``)."""
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not node.value)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Loader:
    def __init__(self, name: str, instance_sizes: dict[str, int] | None = None) -> None:
        self.name = name
        self.instance_sizes = instance_sizes  # values of the sizes declared any, or None: symbols
        self.seen_ids: dict[str, int] = {}  # claim id -> line, across every document of the file
        self.aliases: dict[str, str] = {}  # the aliases the document being loaded declares

    def fail(self, problem: str, node: yaml.Node | None) -> InputError:
        return InputError(problem, file=self.name, line=_line(node) if node is not None else None)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(f"{what} must be a single value, not a list or mapping", node)
        return str(node.value)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(f"{what} must be a mapping (key: value)", node)
        return node.value

    def load(self, root: yaml.MappingNode, section: int = 0) -> ClaimsFile:
        sections: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in root.value:
            key = self.scalar(k, "a key")
            if key not in TOP_KEYS:
                hint = difflib.get_close_matches(key, TOP_KEYS, 1)
                more = f" (did you mean {hint[0]!r}?)" if hint else f"; the keys are {', '.join(TOP_KEYS)}"
                raise self.fail(f"unknown key {key!r}{more}", k)
            if key in sections:
                raise self.fail(f"the key {key!r} appears twice", k)
            sections[key] = (k, v)
        if "claims" not in sections:
            raise self.fail("no 'claims:' list: nothing to check", root)
        env = Env()
        self.aliases = {}
        title = None
        if "title" in sections:
            title = self.scalar(sections["title"][1], "title")
        sizes = self.load_sizes(sections.get("sizes"), env)
        raw_symbols = self.load_symbol_functions(sections.get("symbols"), env)
        spec = None
        m = max(1, sizes.get("m", 1))
        if "network" in sections and env.symbolic_sizes:
            raise self.fail("a network preset is built at concrete sizes: give every size a number, or write "
                            "the definitions yourself to check for any size", sections["network"][0])
        if "network" in sections:
            spec = self.load_network(*sections["network"])
            if spec.notation == "ng" and m > MAX_EXAMPLES:
                raise self.fail(
                    f"m = {m} examples is too many to write out (at most {MAX_EXAMPLES})",
                    sections["sizes"][1] if "sizes" in sections else sections["network"][0],
                )
            if spec.l2 is not None and isinstance(spec.l2, sp.Symbol):
                env.entries[spec.l2.name] = Entry(spec.l2.name, spec.l2)
            try:
                build_preset(env, spec, m)
            except PresetError as err:
                raise self.fail(str(err), sections["network"][1]) from None
        self.load_symbol_shapes(sections.get("symbols"), env)
        definitions = self.load_definitions(sections.get("definitions"), env)
        env.strict = bool(definitions) or spec is not None
        claims = self.load_claim_list(sections["claims"][1], section)
        return ClaimsFile(self.name, title, env, claims, definitions, spec, raw_symbols, m, aliases=self.aliases)

    # ---- sizes, symbols, network --------------------------------------------------------------

    def load_sizes(self, item: tuple[yaml.Node, yaml.Node] | None, env: Env) -> dict[str, int]:
        if item is None:
            return {}
        out: dict[str, int] = {}
        for k, v in self.mapping(item[1], "sizes"):
            key = self.scalar(k, "a size name")
            raw = self.scalar(v, f"size {key}")
            name = key.lstrip("\\")
            if raw.strip() == "any" and self.instance_sizes is None:  # claims checked for every size
                env.symbolic_sizes[name] = sp.Symbol(name, integer=True, positive=True)
                continue
            if raw.strip() == "any":
                raw = str(self.instance_sizes.get(name, 3))
            try:
                value = int(raw)
            except ValueError:
                problem = f"size {key} = {raw!r} is impossible: sizes are whole numbers, or any"
                raise self.fail(problem, v) from None
            if value < 1 and key != "t":
                raise self.fail(f"size {key} = {value} is impossible: sizes are at least 1", v)
            if value > MAX_SIZE:
                raise self.fail(f"size {key} = {value} is too large to check on an instance (at most {MAX_SIZE})", v)
            out[name] = value
        env.sizes.update(out)
        return out

    def symbol_items(self, item: tuple[yaml.Node, yaml.Node] | None) -> list[tuple[yaml.Node, str, str]]:
        if item is None:
            return []
        out = []
        for k, v in self.mapping(item[1], "symbols"):
            out.append((k, self.scalar(k, "a symbol"), self.scalar(v, "what a symbol means").strip()))
        return out

    def symbol_key(self, text: str, node: yaml.Node, env: Env) -> tuple[str, Name]:
        try:
            tree = parse_expression(text)
        except ParseError as err:
            raise self.fail(f"the symbol {text!r} does not parse: {err}", node) from None
        ev = Evaluator(env)
        if isinstance(tree, Name):
            entry, key, rest = ev.lookup(tree)
            if tree.sub is not None:
                key = make_key(ev.name_base(tree), ev.sup_texts(tree), ev.sub_key(tree.sub))
            return key, tree
        if isinstance(tree, Pow) and isinstance(tree.base, Name) and tree.raw:
            return make_key(ev.name_base(tree.base)) + "^{" + tokens_text(tree.raw).strip("{}") + "}", tree.base
        if isinstance(tree, Call) and tree.func.base.lstrip("\\") in ("tanh", "exp", "log", "ln"):
            return tree.func.base, tree.func
        raise self.fail(f"the symbol {text!r} is not a name", node)

    def load_symbol_functions(self, item: tuple[yaml.Node, yaml.Node] | None, env: Env) -> dict[str, str]:
        raw = {}
        for k, key_text, value in self.symbol_items(item):
            raw[key_text] = value
            example = EXAMPLE_DECLARATION.fullmatch(value.replace(" ", ""))
            if example:  # n: 'example[N]': the letter n numbers the examples (E_n, x^{(i)})
                letter = key_text.strip()
                if not (len(letter) == 1 and letter.isalpha()):
                    raise self.fail(f"{key_text}: an example index is one letter (n: 'example[N]')", k)
                env.examples[letter] = self.size_value(example.group(1), k, env)
                if env.examples[letter] > MAX_EXAMPLES * 2:
                    raise self.fail(f"{env.examples[letter]} examples are too many to write out (at most 8)", k)
                continue
            value = registry_name(value)  # swish, ReLU, logistic: the names notes use
            if value in REGISTRY_FUNCTIONS:
                base = key_text.strip()
                if base.startswith("\\") and base[1:] in ("tanh", "exp", "log", "ln"):
                    continue  # \tanh: tanh says what it already is
                key, name = self.symbol_key(base, k, env)
                if value == "function":  # an arbitrary differentiable function, named after itself
                    value = GENERIC + key.lstrip("\\")
                if name.sub is None and not name.sups:
                    env.functions[key] = value
                else:
                    env.entries[key] = Entry(key, sp.S.Zero, function=value)
            elif _looks_like_function(value):
                hint = difflib.get_close_matches(value.lower(), REGISTRY_FUNCTIONS, 1)
                raise self.fail(
                    f"unknown function {value!r} for {key_text}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else f"; choose one of {', '.join(REGISTRY_FUNCTIONS)}"),
                    k,
                )
        return raw

    def load_symbol_shapes(self, item: tuple[yaml.Node, yaml.Node] | None, env: Env) -> None:
        for k, key_text, value in self.symbol_items(item):
            if registry_name(value) in REGISTRY_FUNCTIONS or _looks_like_function(value):
                continue
            if EXAMPLE_DECLARATION.fullmatch(value.replace(" ", "")):
                continue
            key, _name = self.symbol_key(key_text, k, env)
            low = value.replace(" ", "")
            if low.startswith(("vector[", "matrix[")) and low.endswith("]"):
                dims = [d for d in low[low.index("[") + 1 : -1].split(",")]
                want = 1 if low.startswith("vector") else 2
                if len(dims) != want:
                    raise self.fail(f"{value!r}: write vector[K] or matrix[rows, columns]", k)
                sizes = [self.size_value(d, k, env) for d in dims]
                if env.symbolic_sizes:  # entries indexed, checked for every size (derive.notes.generic)
                    env.generic_shapes[key] = tuple(as_expr(s) for s in sizes)
                    continue
                shape = (sizes[0], 1) if want == 1 else (sizes[0], sizes[1])
                col0 = 1
                env.add_input(key, shape, col0=col0)
            elif low == "scalar":
                env.add_input(key)
            else:
                try:
                    target = parse_expression(value)
                except ParseError as err:
                    raise self.fail(
                        f"{key_text}: {value!r} is neither a function, a shape nor a name: {err}", k
                    ) from None
                ev = Evaluator(env)
                if isinstance(target, Name):
                    _e, tkey, rest = ev.lookup(target)
                    if target.sub is None and not target.sups and key in env.functions:
                        continue
                    if rest == "sub":  # an entry of a matrix: the alias keeps the entry's subscript
                        tkey = make_key(ev.name_base(target), ev.sup_texts(target), ev.sub_key(target.sub))
                    env.aliases[key] = tkey
                    self.aliases[key] = tkey
                else:
                    raise self.fail(f"{key_text}: {value!r} is neither a function, a shape nor a name", k)

    def size_value(self, text: str, node: yaml.Node, env: Env) -> int | sp.Expr:
        symbolic = {s for s in env.symbolic_sizes if s in text}
        if symbolic:  # n, n+1 with n: any
            try:
                tree = parse_expression(text)
            except ParseError:
                raise self.fail(f"size {text!r} is not a whole number or a size from sizes:", node) from None
            return GenericEvaluator(env).eval(tree)
        try:
            tree = parse_expression(text)
            v = Evaluator(env, allow_unknown=False).eval(tree)
        except (ParseError, MeaningError):
            raise self.fail(f"size {text!r} is not a whole number or a size from sizes:", node) from None
        if is_matrix(v) or not as_expr(v).is_Integer:
            raise self.fail(f"size {text!r} is not a whole number", node)
        n = int(v)
        if n < 1 or n > MAX_SIZE:
            raise self.fail(f"size {text} = {n} is impossible here (1 to {MAX_SIZE})", node)
        return n

    def load_network(self, knode: yaml.Node, node: yaml.Node) -> NetworkSpec:
        fields: dict[str, yaml.Node] = {}
        for k, v in self.mapping(node, "network"):
            key = self.scalar(k, "a network key")
            if key not in NETWORK_KEYS:
                raise self.fail(f"unknown key {key!r} in network: (the keys are {', '.join(NETWORK_KEYS)})", k)
            fields[key] = v
        if "notation" not in fields:
            raise self.fail("network: needs notation: ng, 3b1b or mazur", node)
        notation = self.scalar(fields["notation"], "notation")
        if notation not in PRESETS:
            raise self.fail(f"unknown notation {notation!r}; choose one of {', '.join(PRESETS)}", fields["notation"])
        if "layers" not in fields:
            raise self.fail("network: needs layers: [sizes]", node)
        lnode = fields["layers"]
        if not isinstance(lnode, yaml.SequenceNode) or not lnode.value:
            raise self.fail("layers must be a list of sizes, like [2, 2, 1]", lnode)
        layers = []
        for item in lnode.value:
            raw = self.scalar(item, "a layer size")
            try:
                layers.append(int(raw))
            except ValueError:
                raise self.fail(f"layer size {raw!r} is impossible: sizes are whole numbers", item) from None
        loss = self.scalar(fields["loss"], "loss") if "loss" in fields else ("sq" if notation == "3b1b" else "mse")
        hidden = self.scalar(fields["hidden"], "hidden") if "hidden" in fields else "sigmoid"
        if loss not in rules.LOSSES:
            raise self.fail(f"unknown loss {loss!r}; choose one of {', '.join(rules.LOSSES)}", fields["loss"])
        output = self.scalar(fields["output"], "output") if "output" in fields else rules.default_output(loss)
        for what, value in (("hidden", hidden), ("output", output)):
            if value not in rules.ACTIVATIONS:
                raise self.fail(
                    f"unknown function {value!r} for {what}; choose one of {', '.join(rules.ACTIVATIONS)}",
                    fields.get(what, node),
                )
        l2 = None
        if "l2" in fields:
            raw = self.scalar(fields["l2"], "l2").strip()
            try:
                l2 = sp.Rational(raw)
                if l2 < 0:
                    raise self.fail("l2 must be at least 0", fields["l2"])
            except (TypeError, ValueError):
                try:
                    tree = parse_expression(raw)
                except ParseError as err:
                    raise self.fail(f"l2 {raw!r} does not parse: {err}", fields["l2"]) from None
                if not isinstance(tree, Name):
                    raise self.fail("l2 must be a number or a name such as \\lambda", fields["l2"]) from None
                l2 = sp.Symbol(make_key(tree.base), positive=True)
        for s, item in zip(layers, lnode.value, strict=False):
            if s < 1 or s > 12:
                raise self.fail(f"layer size {s} is impossible here: sizes are whole numbers from 1 to 12", item)
        spec = NetworkSpec(notation, tuple(layers), hidden, output, loss, l2)
        if not rules.loss(loss).accepts(output):
            raise self.fail(
                f"loss {loss!r} needs a {' or '.join(rules.loss(loss).output_names)} output, not {output!r}",
                fields.get("output", fields.get("loss", node)),
            )
        return spec

    # ---- definitions ------------------------------------------------------------------------------

    def load_definitions(self, item: tuple[yaml.Node, yaml.Node] | None, env: Env) -> list[tuple[str, int]]:
        if item is None:
            return []
        node = item[1]
        if isinstance(node, yaml.ScalarNode) and node.value in ("", None):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("definitions must be a list of 'name = expression'", node)
        out = []
        for d in node.value:
            text = self.scalar(d, "a definition")
            line = _line(d)
            if env.symbolic_sizes:
                define_generic(env, text, lambda problem, d=d: self.fail(problem, d))
            else:
                define(env, text, lambda problem, d=d: self.fail(problem, d))
            out.append((text, line))
        if env.entries:
            for key, entry in list(env.entries.items()):
                if entry.value is None:
                    del env.entries[key]
        return out

    # ---- claims ------------------------------------------------------------------------------------

    def load_claim_list(self, node: yaml.Node, section: int = 0) -> list[ClaimSpec]:
        if isinstance(node, yaml.ScalarNode) and not node.value:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("claims must be a list", node)
        total = len(self.seen_ids) + len(node.value)
        if total > MAX_CLAIMS:
            raise self.fail(f"{total} claims; a file may hold at most {MAX_CLAIMS} (split it)", node)
        claims: list[ClaimSpec] = []
        seen = self.seen_ids
        for n, item in enumerate(node.value, len(seen) + 1):
            if isinstance(item, yaml.ScalarNode):
                cid = f"claim-{n}"
                seen[cid] = _line(item)
                claims.append(ClaimSpec(cid, str(item.value), _line(item), section=section))
                continue
            fields: dict[str, str] = {}
            for k, v in self.mapping(item, "a claim"):
                key = self.scalar(k, "a claim key")
                if key not in CLAIM_KEYS:
                    raise self.fail(f"unknown key {key!r} in a claim (the keys are {', '.join(CLAIM_KEYS)})", k)
                fields[key] = self.scalar(v, key)
            if "latex" not in fields or not fields["latex"].strip():
                raise self.fail("a claim needs latex: the formula to check", item)
            cid = fields.get("id") or f"claim-{n}"
            if cid in seen:
                raise self.fail(f"the claim id {cid!r} is used twice (first on line {seen[cid]})", item)
            seen[cid] = _line(item)
            expect = fields.get("expect")
            if expect is not None and expect not in ("holds", "fails", "undecided"):
                raise self.fail(f"expect: {expect!r} must be holds, fails or undecided", item)
            claims.append(
                ClaimSpec(
                    cid, fields["latex"], _line(item), fields.get("note"), fields.get("when"), expect, section=section
                )
            )
        return claims


def _looks_like_function(value: str) -> bool:
    """A plain lower-case word close to a registry name is a misspelt function, not an alias."""
    v = value.strip()
    if not v.isalpha() or len(v) < 3 or v in REGISTRY_FUNCTIONS:
        return False
    known = {name.lower() for name in REGISTRY_FUNCTIONS}
    return bool(difflib.get_close_matches(v.lower(), REGISTRY_FUNCTIONS, 1, cutoff=0.75)) or v.lower() in known


# ----------------------------------------------------------------------------------------------
# One definition
# ----------------------------------------------------------------------------------------------


def define_generic(env: Env, text: str, fail) -> None:
    """With symbolic sizes a definition is kept as written, for derive.notes.generic to read."""
    try:
        chain = parse_chain(text)
    except ParseError as err:
        raise fail(f"the definition does not parse: {err}") from None
    lhs, *rest = chain.sides
    if len(rest) != 1 or not isinstance(lhs, Name):
        raise fail("a definition is 'name = expression' (one '=', a name on the left)")
    ev = Evaluator(env)
    env.generic_definitions[make_key(ev.name_base(lhs), ev.sup_texts(lhs))] = (lhs, rest[0])


def define(env: Env, text: str, fail, indices: dict[str, int] | None = None) -> None:
    """Add ``name = expression`` to ``env``. A parse error or a left side that is not a name
    makes the file unusable (``fail``); a right side without meaning marks the name broken.
    A name that carries an example index (``z^{(i)}``, ``E_n``) is also defined for each example,
    the letter bound to its number (``indices``)."""
    try:
        chain = parse_chain(text)
    except ParseError as err:
        raise fail(f"the definition does not parse: {err}") from None
    if len(chain.sides) != 2:
        raise fail("a definition is 'name = expression' (one '=')")
    lhs, rhs = chain.sides
    ev = Evaluator(env, indices)
    params: tuple[str, ...] = ()
    param_values: tuple = ()
    if isinstance(lhs, Call) and not lhs.func.primes and all(isinstance(a, Name) for a in lhs.args):
        # h_\Theta(x) = ..., f(x) = x + 3: a name defined as a function of its arguments
        keys = []
        values = []
        for a in lhs.args:
            v = ev.eval(a)
            _e, akey, _r = ev.lookup(a)  # type: ignore[arg-type]
            keys.append(akey)
            values.append(v)
        for akey, v in ev.unknown.items():
            env.entries.setdefault(akey, Entry(akey, v))
        params, param_values = tuple(keys), tuple(values)
        lhs = lhs.func
    key, index_letters = _lhs_key(ev, lhs, fail)
    if indices is None:
        for bound in env.example_bindings(key):
            define(env, text, fail, bound)
    if not index_letters and not params:
        key = _input_entry_key(ev, lhs) or key
    try:
        ev2 = Evaluator(env, indices)
        if index_letters:
            value = _entrywise(ev2, lhs, rhs, index_letters)
        else:
            value = ev2.eval(rhs)
    except MeaningError as err:
        _register_unknown(env, ev2)
        env.entries[key] = Entry(key, sp.S.Zero, broken=str(err))
        return
    except RecursionError:
        env.entries[key] = Entry(key, sp.S.Zero, broken="too deeply nested")
        return
    _register_unknown(env, ev2)
    old = env.entries.get(key)
    if old is not None and old.row0 != 1 or old is not None and old.col0 != 1:
        env.define(key, value, row0=old.row0, col0=old.col0, params=params, param_values=param_values)
    else:
        env.define(key, value, params=params, param_values=param_values)


def _input_entry_key(ev: Evaluator, lhs: Node) -> str | None:
    """``w^{(1)}_{11} = 0.5`` gives an entry of an input matrix a value: the entry's own symbol
    name (``w^{(1)}_{1,1}``), so that the definition takes the entry's place everywhere."""
    if not isinstance(lhs, Name) or lhs.sub is None:
        return None
    entry, _key, rest = ev.lookup(lhs)
    if entry is None or entry.defined or rest != "sub":
        return None
    try:
        symbol = ev.eval(lhs)
    except MeaningError:
        return None
    return symbol.name if type(symbol) is sp.Symbol else None


def _register_unknown(env: Env, ev: Evaluator) -> None:
    """Names first met in a definition are the notes' inputs: known from now on."""
    for k, sym in ev.unknown.items():
        env.entries.setdefault(k, Entry(k, sym))


def _lhs_key(ev: Evaluator, lhs: Node, fail) -> tuple[str, list[str]]:
    if isinstance(lhs, Pow) and isinstance(lhs.base, Name) and lhs.raw and not lhs.base.sups:
        return make_key(ev.name_base(lhs.base)) + "^{" + tokens_text(lhs.raw).strip("{}") + "}", []
    if not isinstance(lhs, Name) or lhs.primes:
        raise fail("the left side of a definition must be a name (name = expression)")
    base = ev.name_base(lhs)
    sups = ev.sup_texts(lhs)
    if lhs.sub is None:
        return make_key(base, sups), []
    atoms = ev.sub_atoms(lhs.sub)
    if atoms is not None:
        letters = [
            a[0].value for a in atoms if len(a) == 1 and a[0].kind == "WORD" and ev.int_value(a[0].value) is None
        ]
        if letters:
            if len(letters) != len(atoms):
                raise fail("an entrywise definition uses only index letters in its subscript (a_j = ...)")
            return make_key(base, sups), letters
    return make_key(base, sups, ev.sub_key(lhs.sub)), []


def _entrywise(ev: Evaluator, lhs: Name, rhs: Node, letters: list[str]) -> object:
    """``\\sigma_i = \\frac{e^{x_i}}{\\sum_k e^{x_k}}``: a vector (or matrix) built entry by entry,
    the range of each index read from the shapes it indexes on the right side."""
    ranges = []
    for c in letters:
        rng = index_range(rhs, c, ev)
        if rng is None:
            raise MeaningError(f"the range of {c} in this definition is unknown (declare the vector's size)")
        ranges.append(rng)
    if len(letters) == 1:
        lo, hi = ranges[0]
        vals = []
        for i in range(lo, hi + 1):
            ev.indices[letters[0]] = i
            v = ev.eval(rhs)
            if is_matrix(v):
                raise MeaningError("an entry must be a scalar")
            vals.append([v])
        ev.indices.pop(letters[0], None)
        return sp.ImmutableMatrix(vals)
    if len(letters) == 2:
        (lo1, hi1), (lo2, hi2) = ranges
        rows = []
        for i in range(lo1, hi1 + 1):
            row = []
            for j in range(lo2, hi2 + 1):
                ev.indices[letters[0]] = i
                ev.indices[letters[1]] = j
                v = ev.eval(rhs)
                if is_matrix(v):
                    raise MeaningError("an entry must be a scalar")
                row.append(v)
            rows.append(row)
        ev.indices.pop(letters[0], None)
        ev.indices.pop(letters[1], None)
        return sp.ImmutableMatrix(rows)
    raise MeaningError("entrywise definitions take one or two indices")
