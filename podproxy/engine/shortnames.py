"""Short-name resolution as ``GET /libpod/images/{name}/resolve`` does it.

podman 5's handler calls containers/image's ``shortnames.Resolve`` with the
short-name mode "disabled": a fully-qualified name is its own candidate; a
short name resolves to its alias, else to one candidate per
unqualified-search registry. No podman command prints that list, so the
registries configuration is read here the way containers/image's
``sysregistriesv2`` reads it (registries.conf or
``$HOME/.config/containers/registries.conf``, ``CONTAINERS_REGISTRIES_CONF``,
the ``registries.conf.d`` drop-ins, the machine-written
``short-name-aliases.conf``), on every call (podman reads registries.conf
once per process; the aliases file on every call).

``resolve`` returns the candidates' names or raises ``ResolveError`` with
podman's wording; its ``cause`` is the innermost error, as podman's
``errors.Unwrap`` chain ends.
"""
from __future__ import annotations

import os
import re

import tomllib

from ..gocompat import reference
from ..gocompat.gojson import go_quote
from ..gocompat.reference import parse_error

SYSTEM_CONF = "/etc/containers/registries.conf"
SYSTEM_CONF_DIR = "/etc/containers/registries.conf.d"
MAX_CONF_BYTES = 1 << 20  # a registries.conf is a few KiB
_DOMAIN = re.compile(reference.DOMAIN + r"\Z", re.ASCII)


class ResolveError(Exception):
    def __init__(self, message: str, cause: str | None = None):
        super().__init__(message)
        self.message, self.cause = message, cause or message


class Named:
    """A parsed reference: domain (as written), path, tag, digest."""

    def __init__(self, domain: str, path: str, tag: str | None, digest: str | None):
        self.domain, self.path, self.tag, self.digest = domain, path, tag, digest

    @property
    def name(self) -> str:
        return "%s/%s" % (self.domain, self.path) if self.domain else self.path

    def __str__(self):
        return self.name + (":" + self.tag if self.tag else "") + ("@" + self.digest if self.digest else "")

    def tag_name_only(self) -> Named:
        """reference.TagNameOnly: ``:latest`` when neither tag nor digest."""
        if self.tag or self.digest:
            return self
        return Named(self.domain, self.path, "latest", None)


def parse(text: str, what: str = "cannot parse input") -> Named:
    """reference.Parse, its error wrapped as ``WHAT: "TEXT": ERR``."""
    err = parse_error(text)
    if err is not None:
        raise ResolveError("%s: %s: %s" % (what, go_quote(text), err), err)
    rest, _, digest = text.partition("@")
    name, tag = rest, None
    if rest.rfind(":") > rest.rfind("/"):
        name, _, tag = rest.rpartition(":")
    first, sep, path = name.partition("/")
    if sep and _DOMAIN.match(first):  # the grammar's optional domain, taken when it can be
        return Named(first, path, tag, digest or None)
    return Named("", name, tag, digest or None)


def _qualified(named: Named) -> bool:
    return any(c in named.domain for c in ".:") or named.domain == "localhost"


def parse_normalized(text: str) -> Named:
    """reference.ParseNormalizedNamed: docker.io and library/ filled in."""
    if re.fullmatch(r"[a-f0-9]{64}", text):
        raise ResolveError("invalid repository name (%s), cannot specify 64-byte hexadecimal strings" % text)
    first, sep, rest = text.partition("/")
    if not sep or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = "docker.io", text
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    repo = re.split(r"[:@]", remainder, maxsplit=1)[0]
    if repo.lower() != repo:
        raise ResolveError("invalid reference format: repository name (%s) must be lowercase" % repo,
                           "invalid reference format")
    named = parse(domain + "/" + remainder)
    return Named(domain, named.name[len(domain) + 1:], named.tag, named.digest)


# -- the configuration ---------------------------------------------------------

class Config:
    """What resolution needs of the assembled registries configuration."""

    def __init__(self):
        self.search: list[str] | None = None
        self.search_origin = ""
        self.aliases: dict[str, tuple[Named | None, str]] = {}


def _load_toml(path: str) -> dict:
    with open(path, "rb") as f:
        data = f.read(MAX_CONF_BYTES + 1)
    if len(data) > MAX_CONF_BYTES:
        raise ResolveError("loading registries configuration %s: larger than %d bytes" % (go_quote(path),
                                                                                          MAX_CONF_BYTES))
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ResolveError("loading registries configuration %s: %s" % (go_quote(path), e)) from None


def _validate_short_name(name: str) -> Named:
    named = parse(name, "cannot parse short name")
    if named.digest:
        raise ResolveError("invalid short name %s: must not contain digest" % go_quote(name))
    if named.tag:
        raise ResolveError("invalid short name %s: must not contain tag" % go_quote(name))
    if _qualified(named):
        raise ResolveError("invalid short name %s: must not contain registry" % go_quote(name))
    return named


def _alias_value(value: str) -> Named:
    named = parse(value, "parsing alias")
    if named.digest:
        raise ResolveError("invalid alias %s: must not contain digest" % go_quote(value))
    if named.tag:
        raise ResolveError("invalid alias %s: must not contain tag" % go_quote(value))
    if not _qualified(named):
        raise ResolveError("invalid alias %s: must contain registry and repository" % go_quote(value))
    return parse_normalized(value)


def _aliases(path: str, table) -> dict:
    """newShortNameAliasCache: every entry checked, all errors reported."""
    out, errors = {}, []
    for name, value in (table or {}).items():
        try:
            _validate_short_name(name)
            out[name] = (_alias_value(value) if value else None, path)
        except ResolveError as e:
            errors.append(e.message)
    if errors:
        raise ResolveError("\n".join(errors))
    return out


def _merge_file(config: Config, path: str, drop_in: bool) -> None:
    data = _load_toml(path)
    search = data.get("unqualified-search-registries")
    if search is None and not drop_in:  # the v1 format: [registries.search] registries = [...]
        search = ((data.get("registries") or {}).get("search") or {}).get("registries")
    if search is not None:
        config.search, config.search_origin = [str(s) for s in search], path
    elif not drop_in:
        config.search_origin = path
    try:
        aliases = _aliases(path, data.get("aliases"))
    except ResolveError as e:
        raise ResolveError("validating short-name aliases: %s" % e.message, e.cause) from None
    config.aliases.update(aliases)


def load_config(env=os.environ) -> Config:
    """sysregistriesv2's tryUpdatingCache for podman's default context."""
    home = env.get("HOME", "/")
    user_conf = os.path.join(home, ".config/containers/registries.conf")
    user_dir = os.path.join(home, ".config/containers/registries.conf.d")
    explicit = env.get("CONTAINERS_REGISTRIES_CONF") or env.get("REGISTRIES_CONFIG_PATH")
    dirs = [SYSTEM_CONF_DIR, user_dir]
    if explicit:
        path = explicit
    elif os.path.exists(user_conf):
        path, dirs = user_conf, [user_dir]
    else:
        path = SYSTEM_CONF
    config = Config()
    try:
        _merge_file(config, path, drop_in=False)
    except FileNotFoundError:
        if explicit:
            raise ResolveError("loading registries configuration %s: open %s: no such file or directory"
                               % (go_quote(path), path), "no such file or directory") from None
    for directory in dirs:
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".conf"))
        except OSError:
            continue
        for name in names:
            drop_in = os.path.join(directory, name)
            if os.path.isfile(drop_in):
                try:
                    _merge_file(config, drop_in, drop_in=True)
                except FileNotFoundError:
                    continue
    return config


def _alias_cache_path(env) -> str:
    if os.geteuid() == 0:
        return "/var/cache/containers/short-name-aliases.conf"
    cache = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME", "/"), ".cache")
    return os.path.join(cache, "containers/short-name-aliases.conf")


def _alias(config: Config, name: str, env) -> Named | None:
    """ResolveShortNameAlias: the machine-written file first, then the config."""
    _validate_short_name(name)
    path = _alias_cache_path(env)
    try:
        cached = _aliases(path, _load_toml(path).get("aliases"))
    except FileNotFoundError:
        cached = {}
    except ResolveError as e:
        raise ResolveError("loading short-name aliases config file %s: %s" % (go_quote(path), e.message),
                           e.cause) from None
    if name in cached:
        return cached[name][0]
    found = config.aliases.get(name)
    return found[0] if found else None


def resolve(name: str, env=os.environ) -> list[str]:
    """shortnames.Resolve in the disabled mode: the pull candidates' names."""
    named = parse(name)
    if _qualified(named):
        return [str(parse_normalized(name).tag_name_only())]
    config = load_config(env)
    short = Named(named.domain, named.path, None, None)
    alias = _alias(config, short.name, env)
    if alias is not None:
        return [str(Named(alias.domain, alias.path, named.tag, named.digest).tag_name_only())]
    if not config.search:
        if config.search_origin:
            raise ResolveError("short-name %s did not resolve to an alias and no unqualified-search registries are "
                               "defined in %s" % (go_quote(name), go_quote(config.search_origin)))
        raise ResolveError("short-name %s did not resolve to an alias and no containers-registries.conf(5) was found"
                           % go_quote(name))
    out = []
    for registry in config.search:
        try:
            out.append(str(parse_normalized("%s/%s" % (registry, name)).tag_name_only()))
        except ResolveError as e:
            raise ResolveError("creating reference with unqualified-search registry %s: %s"
                               % (go_quote(registry), e.message), e.cause) from None
    return out
