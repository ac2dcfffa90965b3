"""The danger classifier: which risk classes a shell command (or a file path) falls into.

A command line is parsed (:mod:`odek.policy.shellparse`) and every simple command in it is
classified on its own: each stage of a pipeline, each side of ``&&``, ``||`` and ``;``,
the contents of ``( )`` subshells, of ``$( )``, backticks and ``<( )``, the code string of
``sh -c`` / ``bash -c`` (recursively), the command behind wrappers (``sudo``, ``env``,
``nohup``, ``time``, ``nice``, ``timeout``, ``xargs``, ``find -exec`` ...), and the
targets of output redirections. Pipelines are read as data flow: code piped into a shell
is classified too when it is visible (``echo 'rm -rf /' | sh``, also through ``base64 -d``),
content fetched from the network and piped into an interpreter is ``blocked``.

Every finding is kept; the command's class is the worst of them (see
:func:`odek.policy.risk.worst`) and the policy decides on all of them. A verb the
classifier does not know, a command name computed at run time, or a line it cannot parse
is ``unknown``: the classifier fails closed.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from odek.policy.risk import RiskClass, worst
from odek.policy.shellparse import (
    CommandList,
    Group,
    Pipeline,
    Redirect,
    ShellSyntaxError,
    Simple,
    Word,
    decode_ansi_c,
    parse,
)

__all__ = ["Classification", "Finding", "classify_command", "classify_write_path"]

R = RiskClass
_MAX_DEPTH = 8
_MAX_LENGTH = 100_000


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a call falls into a class, e.g. ``(destructive, "rm -r of build")``."""

    risk: RiskClass
    reason: str


@dataclass(frozen=True, slots=True)
class Classification:
    """Everything the classifier found in one call.

    ``stages`` are the simple commands it contains, in source order, as normalised text
    (wrappers both kept and removed: ``sudo rm x`` yields ``sudo rm x`` and ``rm x``); the
    policy matches its denylist prefixes against each of them.
    """

    findings: tuple[Finding, ...]
    stages: tuple[str, ...] = ()

    @classmethod
    def of(cls, risk: RiskClass, reason: str) -> Classification:
        """A classification with one finding (used for the non-shell tools)."""
        return cls((Finding(risk, reason),))

    @property
    def risk(self) -> RiskClass:
        """The worst class found (``safe`` when nothing was found)."""
        return worst([f.risk for f in self.findings])

    @property
    def classes(self) -> frozenset[RiskClass]:
        """Every class found."""
        return frozenset(f.risk for f in self.findings)

    def explain(self) -> str:
        """The reasons behind the worst class, for denial messages and prompts."""
        top = self.risk
        return "; ".join(dict.fromkeys(f.reason for f in self.findings if f.risk == top))


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Paths --------------------------------------------------------------------------------

_HARMLESS_DEVICES = re.compile(r"/dev/(null|zero|full|u?random|stdout|stderr|stdin|tty|fd/\d+)")
_DISK_DEVICES = re.compile(
    r"/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|md\d|dm-\d|mapper/|sr\d|loop\d)"
)
_SYSTEM_TOP = _names(
    "/bin /boot /dev /etc /home /lib /lib32 /lib64 /libx32 /media /mnt /opt /proc /root /run "
    "/sbin /srv /sys /usr /var /snap /Users /System /Library /Applications /private"
)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def classify_write_path(path: str, *, cwd: Path | None, dynamic: bool = False) -> Finding:
    """Classify writing to ``path`` (relative paths are taken from ``cwd``).

    Inside ``cwd`` (after resolving symbolic links and ``..``) it is ``local_write``;
    ``/dev/null`` and the like are ``safe``; a disk device or ``/proc/sysrq-trigger`` is
    ``blocked``; anything else, a ``~`` path, or a path only known at run time
    (``dynamic``) is ``system_write``. Without a ``cwd``, a relative path that does not
    climb out with ``..`` counts as inside.
    """
    if dynamic:
        return Finding(R.SYSTEM_WRITE, f"writes to a path known only at run time ({path})")
    if path.startswith("~"):
        return Finding(R.SYSTEM_WRITE, f"writes outside the working directory ({path})")
    if _HARMLESS_DEVICES.fullmatch(path):
        return Finding(R.SAFE, f"writes to {path}")
    if _DISK_DEVICES.match(path) or path == "/proc/sysrq-trigger":
        return Finding(R.BLOCKED, f"writes to the device {path}")
    if cwd is None:
        inside = not os.path.isabs(path) and not posixpath.normpath(path).startswith("..")
    else:
        root = os.path.realpath(cwd)
        inside = _is_within(os.path.realpath(os.path.join(root, path)), root)
    if inside:
        return Finding(R.LOCAL_WRITE, f"writes {path}")
    return Finding(R.SYSTEM_WRITE, f"writes outside the working directory ({path})")


def _root_like(text: str) -> bool:
    """Whether deleting ``text`` recursively would wipe the system or a home directory."""
    t = text
    while t.endswith(("/*", "/.", "/")) and len(t) > 1:
        t = t[:-2] if t.endswith(("/*", "/.")) else t[:-1]
    if t in ("", "/", "~") or re.fullmatch(r"\$\{?HOME\}?", t):
        return True
    if t.startswith("/"):
        norm = posixpath.normpath(t)
        return norm == "/" or norm in _SYSTEM_TOP or norm == os.path.expanduser("~")
    return re.fullmatch(r"~[A-Za-z0-9_.-]*", t) is not None


# Tables -------------------------------------------------------------------------------


_SAFE = _names(
    """ls cat echo printf pwd whoami id groups uname uptime head tail wc sort uniq cut paste join
    tr grep egrep fgrep zgrep rg ag ack file stat du df free ps pgrep which type whereis true
    false test [ [[ basename dirname realpath readlink diff cmp comm md5sum sha1sum sha224sum
    sha256sum sha384sum sha512sum b2sum cksum sum base64 base32 xxd od hexdump strings jq yq
    less more tree printenv seq sleep expr bc dc nl fold fmt column rev tac shuf numfmt look
    lsblk lscpu lsusb lspci lsof ss netstat vmstat iostat nproc arch getconf locale tty cal
    tput clear cd pushd popd dirs unset set shopt alias unalias read shift exit return local
    declare typeset readonly wait jobs fg bg ulimit umask history hash getopts let : help man
    info apropos whatis zcat bzcat xzcat zless top htop yes logname users who w last cloc tokei
    fd locate mapfile readarray iconv"""
)
_WRITERS_ALL_ARGS = _names(
    "touch mkdir rmdir tee truncate gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd dos2unix "
    "unix2dos mktemp"
)
_WRITERS_LAST_ARG = _names("cp ln install")
_COMPILERS = _names("gcc g++ cc c++ clang clang++ rustc javac tsc gofmt")
_NETWORK = _names(
    """curl wget nc ncat netcat socat scp sftp ping ping6 dig nslookup host whois traceroute
    tracepath mtr telnet ftp tftp http https xh aria2c lftp gh"""
)
_SYSTEM = _names(
    """mount umount swapon swapoff modprobe insmod rmmod useradd userdel usermod groupadd
    groupdel groupmod passwd chpasswd visudo setcap chattr iptables ip6tables nft ufw
    firewall-cmd update-alternatives ldconfig hostnamectl timedatectl localectl update-grub
    grub-install launchctl pkill killall"""
)
_DESTRUCTIVE = _names("shutdown reboot halt poweroff init telinit killall5")
_DISK_TOOLS = _names(
    "mke2fs mkswap fdisk sfdisk cfdisk parted gdisk sgdisk wipefs shred blkdiscard cryptsetup"
)
_CODE = _names(
    """make cmake ninja meson gradle mvn ant pytest tox nox jest mocha vitest sqlite3 psql mysql
    mongo redis-cli expect script screen tmux nsenter unshare vim vi nvim emacs nano ed ex at
    batch"""
)
_SHELLS = _names("sh bash dash zsh ksh mksh ash fish busybox")
_INTERPRETERS = re.compile(
    r"(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*"
    r"|luajit|Rscript|deno|bun|tclsh|osascript|pwsh|powershell|irb|julia|java|jshell|groovy)"
)
_PACKAGE_MANAGERS = _names(
    """pip pip3 pipx uv poetry pdm conda mamba micromamba npm pnpm yarn gem cargo go brew
    apt apt-get aptitude dnf yum zypper pacman apk snap flatpak port nix-env composer dpkg rpm
    emerge bundle bundler mix rustup"""
)
_FETCH_AND_RUN = _names("npx pnpx bunx uvx")
_PKG_SAFE_SUBS = _names(
    """list show freeze search info view ls outdated help version why --version -V -h --help
    env doc query policy madison"""
)
_PKG_CODE_SUBS = _names(
    "run run-script test start exec x dlx build bench check clippy generate vet"
)
_PKG_LOCAL_SUBS = _names("fmt init new venv")
_RISKY_ENV = re.compile(
    r"(LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_[A-Z_]+|PATH|BASH_ENV|ENV|PYTHONPATH|"
    r"PYTHONSTARTUP|PERL5OPT|PERL5LIB|RUBYOPT|NODE_OPTIONS|GIT_SSH_COMMAND|GIT_EXEC_PATH|PROMPT_COMMAND|IFS)"
)
_KEYWORDS = _names("! { } if then else elif fi do done while until")
_SYSTEM_BIN_DIRS = _names(
    "/bin /usr/bin /sbin /usr/sbin /usr/local/bin /usr/local/sbin /opt/homebrew/bin"
)


@dataclass(frozen=True, slots=True)
class _Wrapper:
    options_with_arg: frozenset[str] = frozenset()
    positionals: int = 0
    floor: RiskClass | None = None


def _w(opts: str = "", positionals: int = 0, floor: RiskClass | None = None) -> _Wrapper:
    return _Wrapper(frozenset(opts.split()), positionals, floor)


_WRAPPERS: dict[str, _Wrapper] = {
    "sudo": _w("-u -g -C -D -h -p -r -t -U -T --user --group --chdir", floor=R.SYSTEM_WRITE),
    "doas": _w("-u -C", floor=R.SYSTEM_WRITE),
    "nohup": _w(),
    "time": _w("-f -o --format --output"),
    "nice": _w("-n --adjustment"),
    "ionice": _w("-c -n -p --class --classdata"),
    "timeout": _w("-s -k --signal --kill-after", positionals=1),
    "stdbuf": _w("-i -o -e"),
    "setsid": _w(),
    "command": _w(),
    "exec": _w("-a"),
    "builtin": _w(),
    "chroot": _w("--userspec --groups", positionals=1, floor=R.SYSTEM_WRITE),
    "taskset": _w(positionals=1),
    "chrt": _w(positionals=1),
    "unbuffer": _w(),
    "caffeinate": _w("-t -w"),
    "strace": _w("-o -e -p -s -u"),
    "ltrace": _w("-o -e -p -s -u"),
    "proxychains": _w("-f"),
    "torsocks": _w("-a -P -u -p"),
    "firejail": _w(),
    "fakeroot": _w(),
    "flock": _w("-w -E --timeout --conflict-exit-code", positionals=1),
}
_NETWORK_WRAPPERS = frozenset({"proxychains", "torsocks"})
_XARGS_OPTS = _names(
    "-I -n -P -d -a -E -L -s --max-args --max-procs --delimiter --arg-file --replace "
    "--max-lines --max-chars --eof"
)


# Data flowing through a pipeline ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Flow:
    """What a stage's standard input carries: ``text`` is known literal content."""

    kind: str  # "none" (terminal / nothing), "text", "file", "network", "unknown"
    text: str = ""


_NO_INPUT = _Flow("none")
_UNKNOWN_INPUT = _Flow("unknown")


# The classifier -----------------------------------------------------------------------


@dataclass
class _Ctx:
    cwd: Path | None
    findings: list[Finding] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    cwd_moved: bool = False
    depth: int = 0

    def add(self, risk: RiskClass, reason: str) -> None:
        self.findings.append(Finding(risk, reason))


def classify_command(command: str, *, cwd: Path | None = None) -> Classification:
    """Classify a shell command line (as run by ``sh -c``) into risk classes.

    ``cwd`` is the directory the command runs in; it decides whether a written path is a
    ``local_write`` (inside it) or a ``system_write``. An empty command is ``safe``.
    """
    ctx = _Ctx(cwd)
    if not command.strip():
        ctx.add(R.SAFE, "empty command")
    else:
        _classify_text(ctx, command, reason="command")
    return Classification(tuple(ctx.findings), tuple(dict.fromkeys(ctx.stages)))


def _classify_text(ctx: _Ctx, text: str, *, reason: str) -> None:
    """Classify ``text`` as a nested command line (``sh -c`` code, ``$( )`` bodies)."""
    if ctx.depth >= _MAX_DEPTH:
        ctx.add(R.UNKNOWN, f"{reason}: nested too deeply to inspect")
        return
    if len(text) > _MAX_LENGTH:
        ctx.add(R.UNKNOWN, f"{reason}: too long to inspect")
        return
    if re.search(r"(\S+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1", text):
        ctx.add(R.BLOCKED, "fork bomb")
        return
    try:
        tree = parse(text)
    except ShellSyntaxError as exc:
        ctx.add(R.UNKNOWN, f"{reason}: cannot parse ({exc})")
        return
    ctx.depth += 1
    moved = ctx.cwd_moved
    try:
        _classify_list(ctx, tree, _NO_INPUT)
    finally:
        ctx.depth -= 1
        ctx.cwd_moved = moved


def _classify_list(ctx: _Ctx, tree: CommandList, stdin: _Flow = _NO_INPUT) -> None:
    for pipeline in tree:
        _classify_pipeline(ctx, pipeline, stdin)


def _classify_pipeline(ctx: _Ctx, pipeline: Pipeline, stdin: _Flow) -> None:
    """Classify each stage; a stage reads what the previous one wrote, and everything
    downstream of a stage that reached the network counts as network content."""
    flow = stdin
    network = stdin.kind == "network"
    for stage in pipeline:
        stage_in = _Flow("network") if network else flow
        if isinstance(stage, Group):
            flow, reached = _classify_group(ctx, stage, stage_in)
        else:
            flow, reached = _classify_simple(ctx, stage, stage_in)
        network = network or reached


def _classify_group(ctx: _Ctx, group: Group, stdin: _Flow) -> tuple[_Flow, bool]:
    before = len(ctx.findings)
    stdin = _redirects(ctx, group.redirects, stdin)
    moved = ctx.cwd_moved
    # Any command in the group may read the group's input.
    _classify_list(ctx, group.body, stdin)
    ctx.cwd_moved = moved
    return _UNKNOWN_INPUT, _reached_network(ctx, before)


def _reached_network(ctx: _Ctx, since: int) -> bool:
    return any(f.risk == R.NETWORK_EGRESS for f in ctx.findings[since:])


def _redirects(ctx: _Ctx, redirects: list[Redirect], stdin: _Flow) -> _Flow:
    """Classify redirection targets; return the stage's standard input after them."""
    for r in redirects:
        target = r.target
        for sub in target.subs:
            _classify_text(ctx, sub, reason="substitution")
        if r.op in ("<<", "<<-", "<<<"):
            text = target.heredoc if r.op != "<<<" else target.text
            stdin = _UNKNOWN_INPUT if target.dynamic else _Flow("text", text or "")
        elif r.op == "<":
            stdin = _Flow("file")
        elif r.op == "<&" or (r.op == ">&" and (target.text.isdigit() or target.text == "-")):
            continue  # duplicates a descriptor, opens nothing
        else:
            ctx.findings.append(_write_target(ctx, target))
    return stdin


def _write_target(ctx: _Ctx, word: Word) -> Finding:
    relative = not word.text.startswith(("/", "~"))
    if ctx.cwd_moved and relative and not word.dynamic:
        return Finding(R.SYSTEM_WRITE, f"writes {word.text} after changing directory")
    return classify_write_path(word.text, cwd=ctx.cwd, dynamic=word.dynamic)


def _classify_simple(ctx: _Ctx, cmd: Simple, stdin: _Flow) -> tuple[_Flow, bool]:
    """Classify one simple command; return what it writes to its stdout, and whether it
    reaches the network."""
    before = len(ctx.findings)
    stdin = _redirects(ctx, cmd.redirects, stdin)
    for word in cmd.words:
        for sub in word.subs:
            _classify_text(ctx, sub, reason="substitution")
    words = list(cmd.words)
    while words and words[0].assignment:
        _assignment(ctx, words.pop(0))
    if not words:
        ctx.add(R.SAFE, "variable assignment")
        return _NO_INPUT, _reached_network(ctx, before)
    out = _command(ctx, words, stdin)
    return out, _reached_network(ctx, before)


def _assignment(ctx: _Ctx, word: Word) -> None:
    name = word.text.split("=", 1)[0].rstrip("+")
    if _RISKY_ENV.fullmatch(name):
        ctx.add(R.CODE_EXECUTION, f"sets {name}, which changes what programs run")


def _command(ctx: _Ctx, words: list[Word], stdin: _Flow) -> _Flow:
    """Classify ``words`` (assignments removed) as one command; return its output flow."""
    while words and words[0].text in _KEYWORDS and not words[0].quoted:
        words = words[1:]
    if not words:
        ctx.add(R.SAFE, "shell keyword")
        return _NO_INPUT
    ctx.stages.append(" ".join(w.text for w in words))
    head = words[0]
    if head.dynamic:
        ctx.add(R.UNKNOWN, f"command name is computed at run time ({head.text})")
        return _UNKNOWN_INPUT
    verb = head.text
    if "/" in verb:
        directory, _, base = verb.rpartition("/")
        if directory not in _SYSTEM_BIN_DIRS:
            ctx.add(R.CODE_EXECUTION, f"runs the program {verb}")
            return _UNKNOWN_INPUT
        verb = base
    args = words[1:]
    handler = _HANDLERS.get(verb)
    if handler is not None:
        return handler(ctx, verb, args, stdin)
    if verb in _WRAPPERS:
        return _wrapper(ctx, verb, args, stdin)
    if verb.startswith("mkfs") or verb in _DISK_TOOLS:
        return _disk(ctx, verb, args, stdin)
    if _INTERPRETERS.fullmatch(verb):
        return _interpreter(ctx, verb, args, stdin)
    table: tuple[tuple[frozenset[str], RiskClass, str], ...] = (
        (_NETWORK, R.NETWORK_EGRESS, "network access"),
        (_SYSTEM, R.SYSTEM_WRITE, "changes the system"),
        (_DESTRUCTIVE, R.DESTRUCTIVE, "destructive"),
        (_CODE, R.CODE_EXECUTION, "runs code"),
    )
    for verbs, risk, what in table:
        if verb in verbs:
            ctx.add(risk, f"{verb}: {what}")
            return _Flow("network") if risk == R.NETWORK_EGRESS else _UNKNOWN_INPUT
    if verb in _SAFE:
        ctx.add(R.SAFE, verb)
        return _safe_output(verb, args, stdin)
    if verb in _WRITERS_ALL_ARGS:
        _write_paths(ctx, verb, _operands(args))
        return _UNKNOWN_INPUT if verb != "tee" else stdin
    if verb in _WRITERS_LAST_ARG:
        return _copy_like(ctx, verb, args)
    if verb in _COMPILERS:
        ctx.add(R.LOCAL_WRITE, f"{verb}: compiles into the working directory")
        return _UNKNOWN_INPUT
    if verb in _PACKAGE_MANAGERS:
        _package_manager(ctx, verb, args)
        return _UNKNOWN_INPUT
    ctx.add(R.UNKNOWN, f"unrecognised command {verb!r}")
    return _UNKNOWN_INPUT


def _operands(args: list[Word]) -> list[Word]:
    """Non-option arguments (everything after ``--`` counts as an operand)."""
    out: list[Word] = []
    ended = False
    for w in args:
        if not ended and w.text == "--":
            ended = True
        elif ended or not w.text.startswith("-") or w.text == "-":
            out.append(w)
    return out


def _flags(args: list[Word]) -> set[str]:
    """Single-letter flags (``-rf`` gives r and f) and long options, up to ``--``."""
    flags: set[str] = set()
    for w in args:
        t = w.text
        if t == "--":
            break
        if t.startswith("--"):
            flags.add(t.split("=", 1)[0])
        elif t.startswith("-") and len(t) > 1:
            flags.update(t[1:])
    return flags


def _write_paths(ctx: _Ctx, verb: str, targets: Iterable[Word]) -> None:
    found = False
    for w in targets:
        finding = _write_target(ctx, w)
        ctx.add(finding.risk, f"{verb}: {finding.reason}")
        found = True
    if not found:
        ctx.add(R.LOCAL_WRITE, verb)


def _safe_output(verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    """The output of a read-only command, when it is known text worth following into a
    pipeline (``echo``/``printf`` of literals, ``base64 -d`` and ``xxd -r -p`` of known
    text, ``cat`` / ``rev`` passing it through)."""
    if verb in ("echo", "printf"):
        parts = [w for w in args if not (verb == "echo" and re.fullmatch(r"-[neE]+", w.text))]
        if any(w.dynamic for w in parts):
            return _UNKNOWN_INPUT
        text = " ".join(w.text for w in parts)
        if verb == "printf" or any(w.text in ("-e", "-ne", "-en") for w in args):
            text = decode_ansi_c(text.replace("%%", "%"))
        return _Flow("text", text + "\n")
    operands = _operands(args)
    if verb == "cat":
        return stdin if not operands else _Flow("file")
    if stdin.kind != "text":
        return stdin if stdin.kind == "network" else _UNKNOWN_INPUT
    flags = _flags(args)
    try:
        if verb == "base64" and ("d" in flags or "--decode" in flags):
            return _Flow("text", base64.b64decode(stdin.text.strip()).decode("utf-8", "replace"))
        if verb == "xxd" and "r" in flags:
            data = binascii.unhexlify(re.sub(r"\s", "", stdin.text))
            return _Flow("text", data.decode("utf-8", "replace"))
    except (ValueError, binascii.Error):
        return _UNKNOWN_INPUT
    if verb == "rev":
        return _Flow("text", "\n".join(line[::-1] for line in stdin.text.split("\n")))
    return _UNKNOWN_INPUT


# Handlers for verbs that need their arguments read -------------------------------------

_Handler = Callable[[_Ctx, str, list[Word], _Flow], _Flow]


def _wrapper(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    spec = _WRAPPERS[verb]
    if spec.floor is not None:
        ctx.add(spec.floor, f"{verb}: runs with other privileges")
    if verb in _NETWORK_WRAPPERS:
        ctx.add(R.NETWORK_EGRESS, f"{verb}: network access")
    i = 0
    while i < len(args) and args[i].text.startswith("-") and args[i].text != "-":
        t = args[i].text
        i += 1
        if t == "--":
            break
        if verb == "command" and t in ("-v", "-V"):
            ctx.add(R.SAFE, "command -v")
            return _UNKNOWN_INPUT
        if verb in ("sudo", "doas") and t in ("-s", "-i"):
            ctx.add(R.CODE_EXECUTION, f"{verb} {t}: opens a root shell")
        if verb == "sudo" and t in ("-e", "--edit"):
            ctx.add(R.SYSTEM_WRITE, "sudo -e: edits files as root")
            return _UNKNOWN_INPUT
        if verb == "flock" and t in ("-c", "--command") and i < len(args):
            _code_string(ctx, args[i], f"{verb} -c")
            return _UNKNOWN_INPUT
        if t in spec.options_with_arg:
            i += 1
    i += spec.positionals
    rest = args[i:]
    if verb == "flock" and rest and rest[0].text in ("-c", "--command") and len(rest) > 1:
        _code_string(ctx, rest[1], "flock -c")
        return _UNKNOWN_INPUT
    if not rest:
        ctx.add(R.SAFE, verb)
        return _UNKNOWN_INPUT
    return _command(ctx, rest, stdin)


def _env(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-u", "--unset", "-C", "--chdir"):
            if t in ("-C", "--chdir"):
                ctx.cwd_moved = True
            i += 2
        elif t in ("-S", "--split-string") and i + 1 < len(args):
            split = args[i + 1]
            if split.dynamic:
                ctx.add(R.UNKNOWN, "env -S with a string known only at run time")
                return _UNKNOWN_INPUT
            rest = " ".join(w.text for w in args[i + 2 :])
            _classify_text(ctx, f"{split.text} {rest}", reason="env -S")
            return _UNKNOWN_INPUT
        elif t.startswith("-") and t != "-":
            i += 1
            if t == "--":
                break
        elif args[i].assignment:
            _assignment(ctx, args[i])
            i += 1
        else:
            break
    if i >= len(args):
        ctx.add(R.SAFE, "env")
        return _UNKNOWN_INPUT
    return _command(ctx, args[i:], stdin)


def _xargs(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        t = args[i].text
        i += 2 if t in _XARGS_OPTS else 1
        if t == "--":
            break
    rest = args[i:] or [Word("echo")]
    # The arguments xargs appends come from its input: unknown at classification time.
    return _command(ctx, [*rest, Word("{}", dynamic=True)], _NO_INPUT)


def _watch(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        i += 2 if args[i].text in ("-n", "--interval", "-q", "--equexit") else 1
    rest = args[i:]
    if any(w.dynamic for w in rest):
        ctx.add(R.UNKNOWN, "watch: command known only at run time")
    elif rest:
        _classify_text(ctx, " ".join(w.text for w in rest), reason="watch")
    return _UNKNOWN_INPUT


def _code_string(ctx: _Ctx, code: Word, where: str) -> None:
    """Classify a code string handed to a shell (``sh -c CODE``)."""
    if code.dynamic:
        _dynamic_code(ctx, code, where)
    else:
        _classify_text(ctx, code.text, reason=where)


def _dynamic_code(ctx: _Ctx, code: Word, where: str) -> None:
    """Code that only exists at run time: blocked when it comes from the network."""
    sub = _Ctx(ctx.cwd, depth=ctx.depth)
    for s in code.subs:
        _classify_text(sub, s, reason="substitution")
    if any(f.risk == R.NETWORK_EGRESS for f in sub.findings):
        ctx.add(R.BLOCKED, f"{where}: runs code fetched from the network")
    else:
        ctx.add(R.UNKNOWN, f"{where}: runs code known only at run time ({code.text})")


def _stdin_code(ctx: _Ctx, verb: str, stdin: _Flow, *, shell: bool) -> None:
    """An interpreter reading its program from standard input."""
    if stdin.kind == "network":
        ctx.add(R.BLOCKED, f"{verb}: runs code fetched from the network")
    elif stdin.kind == "text" and shell:
        ctx.add(R.CODE_EXECUTION, f"{verb}: runs piped code")
        _classify_text(ctx, stdin.text, reason=f"code piped into {verb}")
    elif stdin.kind in ("text", "file", "none"):
        ctx.add(R.CODE_EXECUTION, f"{verb}: runs code")
    else:
        ctx.add(R.UNKNOWN, f"{verb}: runs code from a pipe whose content is unknown")


def _shell(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    if verb == "busybox":
        if args and args[0].text in _SHELLS:
            return _shell(ctx, args[0].text, args[1:], stdin)
        return _command(ctx, args, stdin) if args else _UNKNOWN_INPUT
    command_mode = False
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if t in ("-o", "+o", "--rcfile", "--init-file", "-O", "+O"):
            i += 2
            continue
        if t.startswith(("-", "+")) and len(t) > 1:
            if t.startswith("-") and not t.startswith("--") and "c" in t:
                command_mode = True
            i += 1
            continue
        break
    rest = args[i:]
    if command_mode:
        if not rest:
            ctx.add(R.UNKNOWN, f"{verb} -c without a command")
        else:
            _code_string(ctx, rest[0], f"{verb} -c")
    elif rest:
        script = rest[0]
        if script.dynamic:
            _dynamic_code(ctx, script, f"{verb} script")
        else:
            ctx.add(R.CODE_EXECUTION, f"{verb}: runs the script {script.text}")
    else:
        _stdin_code(ctx, verb, stdin, shell=True)
    return _UNKNOWN_INPUT


def _source(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    if args and args[0].dynamic:
        _dynamic_code(ctx, args[0], verb)
    else:
        ctx.add(R.CODE_EXECUTION, f"{verb}: runs a script in this shell")
    return _UNKNOWN_INPUT


def _eval(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    dynamic = [w for w in args if w.dynamic]
    if dynamic:
        _dynamic_code(
            ctx,
            Word(" ".join(w.text for w in args), True, subs=[s for w in dynamic for s in w.subs]),
            verb,
        )
    else:
        _classify_text(ctx, " ".join(w.text for w in args), reason=verb)
    return _UNKNOWN_INPUT


def _trap(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = _operands(args)
    if len(operands) >= 2:
        _code_string(ctx, operands[0], "trap")
    else:
        ctx.add(R.SAFE, "trap")
    return _UNKNOWN_INPUT


def _interpreter(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    texts = [w.text for w in args]
    if texts and all(t in ("--version", "-V", "-v", "--help", "-h") for t in texts):
        ctx.add(R.SAFE, f"{verb} {' '.join(texts)}")
        return _UNKNOWN_INPUT
    if verb.startswith("python") and len(texts) >= 2 and texts[0] == "-m":
        if texts[1] in ("pip", "pipx", "ensurepip"):
            _package_manager(ctx, "pip", args[2:])
            return _UNKNOWN_INPUT
        if texts[1] == "venv":
            _write_paths(ctx, "python -m venv", _operands(args[2:]))
            return _UNKNOWN_INPUT
    for i, w in enumerate(args):
        if w.text in ("-c", "-e", "-E", "--eval", "-r") and i + 1 < len(args):
            code = args[i + 1]
            if code.dynamic:
                _dynamic_code(ctx, code, f"{verb} {w.text}")
            else:
                ctx.add(R.CODE_EXECUTION, f"{verb} {w.text}: runs inline code")
            return _UNKNOWN_INPUT
        if w.text == "-" or not w.text.startswith("-"):
            if w.dynamic:
                _dynamic_code(ctx, w, f"{verb} script")
            elif w.text == "-":
                _stdin_code(ctx, verb, stdin, shell=False)
            else:
                ctx.add(R.CODE_EXECUTION, f"{verb}: runs {w.text}")
            return _UNKNOWN_INPUT
    _stdin_code(ctx, verb, stdin, shell=False)
    return _UNKNOWN_INPUT


def _rm(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    flags = _flags(args)
    recursive = bool(flags & {"r", "R", "--recursive"})
    targets = _operands(args)
    if "--no-preserve-root" in flags:
        ctx.add(R.BLOCKED, "rm --no-preserve-root")
    for w in targets:
        shown = f"rm{' -r' if recursive else ''} {w.text}"
        if _root_like(w.text):
            ctx.add(R.BLOCKED if recursive or w.glob else R.DESTRUCTIVE, f"{shown}: wipes {w.text}")
        elif recursive or w.dynamic or w.glob:
            ctx.add(R.DESTRUCTIVE, f"{shown}: deletes files that cannot be listed in advance")
        else:
            finding = _write_target(ctx, w)
            risk = R.DESTRUCTIVE if finding.risk == R.SYSTEM_WRITE else finding.risk
            ctx.add(risk, f"{shown}: deletes {w.text}")
    if not targets:
        ctx.add(R.SAFE, "rm without operands")
    return _UNKNOWN_INPUT


def _chmod(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    flags = _flags(args)
    recursive = bool(flags & {"R", "--recursive"})
    operands = _operands(args)
    targets = operands[1:] if operands else []
    mode = operands[0].text if operands and verb == "chmod" else ""
    for w in targets:
        if recursive and _root_like(w.text):
            ctx.add(R.BLOCKED, f"{verb} -R {w.text}: changes every file on the system")
        else:
            finding = _write_target(ctx, w)
            ctx.add(finding.risk, f"{verb}: {finding.reason}")
    if re.search(r"[+=][rwxXt]*s|^[2467][0-7]{3}$", mode):
        ctx.add(R.SYSTEM_WRITE, f"chmod {mode}: sets a set-uid/set-gid bit")
    if verb in ("chown", "chgrp"):
        ctx.add(R.SYSTEM_WRITE, f"{verb}: changes ownership")
    if not targets:
        ctx.add(R.LOCAL_WRITE, verb)
    return _UNKNOWN_INPUT


def _dd(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    outputs = [Word(w.text[3:], w.dynamic) for w in args if w.text.startswith("of=")]
    if not outputs:
        ctx.add(R.SAFE, "dd to standard output")
        return _UNKNOWN_INPUT
    for w in outputs:
        finding = _write_target(ctx, w)
        ctx.add(finding.risk, f"dd: {finding.reason}")
    return _UNKNOWN_INPUT


def _disk(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    devices = [w.text for w in args if _DISK_DEVICES.match(w.text)]
    if devices:
        ctx.add(R.BLOCKED, f"{verb}: erases the device {devices[0]}")
    else:
        ctx.add(R.DESTRUCTIVE, f"{verb}: erases data")
    return _UNKNOWN_INPUT


def _copy_like(ctx: _Ctx, verb: str, args: list[Word]) -> _Flow:
    operands = _operands(args)
    target: list[Word] = []
    for i, w in enumerate(args):
        if w.text in ("-t", "--target-directory") and i + 1 < len(args):
            target = [args[i + 1]]
        elif w.text.startswith("--target-directory="):
            target = [Word(w.text.split("=", 1)[1], w.dynamic)]
    if not target and operands:
        target = [operands[-1]]
    _write_paths(ctx, verb, target)
    return _UNKNOWN_INPUT


def _mv(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    # mv removes its sources as well as writing its target.
    _write_paths(ctx, verb, _operands(args))
    return _UNKNOWN_INPUT


def _sed(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    scripts: list[str] = []
    files: list[Word] = []
    in_place = False
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-e", "--expression") and i + 1 < len(args):
            scripts.append(args[i + 1].text)
            i += 2
            continue
        if t in ("-f", "--file"):
            ctx.add(R.CODE_EXECUTION, "sed -f: runs a script file")
            i += 2
            continue
        if t.startswith("-i") or t.startswith("--in-place"):
            in_place = True
        elif not t.startswith("-"):
            files.append(args[i])
        i += 1
    if not scripts and files:
        scripts.append(files.pop(0).text)
    for script in scripts:
        if re.search(r"(^|[;{}\n])\s*([0-9$,]+|/[^/]*/)?\s*[ewW](\s|$)", script) or re.search(
            r"s(.).*\1.*\1[gpiImM0-9]*[ew]", script
        ):
            ctx.add(R.CODE_EXECUTION, "sed: script runs commands or writes files")
    if in_place:
        _write_paths(ctx, "sed -i", files)
    else:
        ctx.add(R.SAFE, "sed")
    return _UNKNOWN_INPUT


def _awk(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = [w for w in args if not w.text.startswith("-")]
    if any(w.text == "-f" for w in args):
        ctx.add(R.CODE_EXECUTION, f"{verb} -f: runs a program file")
    elif operands and re.search(r"system\s*\(|\|\s*getline|\|&|print[^;}]*[|>]", operands[0].text):
        ctx.add(R.CODE_EXECUTION, f"{verb}: program runs commands or writes files")
    else:
        ctx.add(R.SAFE, verb)
    return _UNKNOWN_INPUT


def _find(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    i = 0
    found = False
    while i < len(args):
        t = args[i].text
        if t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j].text not in (";", "+"):
                j += 1
            inner = [Word(w.text, w.dynamic or w.text == "{}", w.quoted) for w in args[i + 1 : j]]
            if inner:
                _command(ctx, inner, _NO_INPUT)
            found = True
            i = j + 1
            continue
        if t == "-delete":
            ctx.add(R.DESTRUCTIVE, "find -delete")
            found = True
        elif t in ("-fprint", "-fprint0", "-fprintf", "-fls") and i + 1 < len(args):
            finding = _write_target(ctx, args[i + 1])
            ctx.add(finding.risk, f"find {t}: {finding.reason}")
            found = True
        i += 1
    if not found:
        ctx.add(R.SAFE, "find")
    return _UNKNOWN_INPUT


def _git(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        t = args[i].text
        if t == "-c":
            ctx.add(R.CODE_EXECUTION, "git -c: configuration can run commands")
        i += 2 if t in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
    if i >= len(args):
        ctx.add(R.SAFE, "git")
        return _UNKNOWN_INPUT
    sub = args[i].text
    rest = args[i + 1 :]
    flags = _flags(rest)
    texts = [w.text for w in rest]
    if sub in ("push", "clone", "fetch", "pull", "ls-remote", "submodule", "archive-remote"):
        ctx.add(R.NETWORK_EGRESS, f"git {sub}: network access")
        if sub == "push" and (
            flags & {"f", "--force", "--force-with-lease", "--mirror", "--delete"}
            or any(t.startswith("+") for t in texts)
        ):
            ctx.add(R.DESTRUCTIVE, "git push --force: rewrites remote history")
        if sub == "clone":
            _write_paths(ctx, "git clone", _operands(rest)[1:2])
        return _Flow("network")
    if sub == "remote" and texts[:1] == ["update"]:
        ctx.add(R.NETWORK_EGRESS, "git remote update: network access")
    elif (
        (sub == "reset" and "--hard" in flags)
        or (sub == "clean" and "f" in flags)
        or (sub == "branch" and "D" in flags)
        or (sub == "stash" and texts[:1] in (["drop"], ["clear"]))
        or sub == "filter-branch"
        or (sub in ("checkout", "restore") and "f" in flags)
    ):
        ctx.add(R.DESTRUCTIVE, f"git {sub}: discards work")
    elif sub in _GIT_SAFE or (
        sub in ("branch", "tag", "remote", "stash", "config")
        and (
            not rest
            or texts[0]
            in ("-l", "--list", "-v", "-a", "-r", "list", "show", "--get", "--get-all", "-vv")
        )
    ):
        ctx.add(R.SAFE, f"git {sub}")
    elif sub in _GIT_LOCAL:
        ctx.add(R.LOCAL_WRITE, f"git {sub}")
    else:
        ctx.add(R.UNKNOWN, f"unrecognised git subcommand {sub!r}")
    return _UNKNOWN_INPUT


_GIT_SAFE = _names(
    """status log diff show blame rev-parse ls-files ls-tree describe shortlog grep reflog
    cat-file help version whatchanged rev-list name-rev count-objects show-ref for-each-ref
    merge-base cherry"""
)
_GIT_LOCAL = _names(
    """add commit checkout switch restore merge rebase stash cherry-pick revert init mv rm tag
    branch reset apply am notes worktree config remote gc fsck bisect format-patch"""
)


def _docker(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = _operands(args)
    sub = operands[0].text if operands else ""
    if sub in ("compose", "container", "image", "system", "volume", "network", "builder"):
        sub = operands[1].text if len(operands) > 1 else ""
    if sub in (
        "",
        "ps",
        "images",
        "logs",
        "inspect",
        "version",
        "info",
        "stats",
        "top",
        "ls",
        "port",
        "history",
        "diff",
        "config",
    ):
        ctx.add(R.SAFE, f"{verb} {sub}".strip())
    elif sub in ("pull", "push", "login", "search"):
        ctx.add(R.NETWORK_EGRESS, f"{verb} {sub}: network access")
    elif sub in ("rm", "rmi", "prune", "down"):
        ctx.add(R.DESTRUCTIVE, f"{verb} {sub}: deletes containers or data")
    elif sub in ("stop", "kill", "pause", "restart"):
        ctx.add(R.SYSTEM_WRITE, f"{verb} {sub}")
    elif sub in ("run", "exec", "build", "up", "start", "create", "cp", "commit"):
        ctx.add(R.CODE_EXECUTION, f"{verb} {sub}: runs code in a container")
    else:
        ctx.add(R.UNKNOWN, f"unrecognised {verb} subcommand {sub!r}")
    return _UNKNOWN_INPUT


def _package_manager(ctx: _Ctx, verb: str, args: list[Word]) -> None:
    texts = [w.text for w in args]
    if verb in ("dpkg", "rpm", "pacman"):
        query = r"-Q\w*|-S[si]+" if verb == "pacman" else r"-[lLsSp]|-q\w*|--(list\w*|status|query)"
        if not texts or any(re.fullmatch(query, t) for t in texts):
            ctx.add(R.SAFE, f"{verb} query")
        else:
            ctx.add(R.INSTALL, f"{verb}: changes installed packages")
        return
    operands = _operands(args)
    sub = operands[0].text if operands else ""
    if verb == "uv" and sub == "pip":
        _package_manager(ctx, "pip", args[1:])
    elif verb in ("uv", "poetry", "pdm", "pipx", "rustup", "bundle", "bundler") and sub == "run":
        ctx.add(R.CODE_EXECUTION, f"{verb} run: runs code")
    elif sub in _PKG_SAFE_SUBS or (not sub and {"--version", "-V", "-h", "--help"} & set(texts)):
        ctx.add(R.SAFE, f"{verb} {sub}".rstrip())
    elif sub in _PKG_CODE_SUBS:
        ctx.add(R.CODE_EXECUTION, f"{verb} {sub}: runs project code")
    elif sub in _PKG_LOCAL_SUBS:
        ctx.add(R.LOCAL_WRITE, f"{verb} {sub}")
    elif sub == "download":
        ctx.add(R.NETWORK_EGRESS, f"{verb} download: network access")
    else:
        ctx.add(R.INSTALL, f"{verb} {sub}".rstrip() + ": installs or changes packages")


def _fetch_and_run(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.INSTALL, f"{verb}: downloads a package")
    ctx.add(R.CODE_EXECUTION, f"{verb}: runs the downloaded package")
    return _UNKNOWN_INPUT


def _network_with_output(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.NETWORK_EGRESS, f"{verb}: network access")
    options = {
        "curl": ("-o", "--output"),
        "wget": ("-O", "--output-document", "-P", "--directory-prefix"),
    }[verb]
    for i, w in enumerate(args):
        if w.text in options and i + 1 < len(args) and args[i + 1].text != "-":
            finding = _write_target(ctx, args[i + 1])
            ctx.add(finding.risk, f"{verb}: {finding.reason}")
    if verb == "curl" and any(t in ("-O", "--remote-name") for t in (w.text for w in args)):
        ctx.add(R.LOCAL_WRITE, "curl -O: writes into the working directory")
    return _Flow("network")


def _ssh(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.NETWORK_EGRESS, f"{verb}: network access")
    i = 0
    with_arg = set("bcDEeFIiJLlmOopQRSWw")
    while i < len(args) and args[i].text.startswith("-"):
        t = args[i].text
        i += 2 if len(t) == 2 and t[1] in with_arg else 1
    remote = args[i + 1 :]
    if remote:
        if any(w.dynamic for w in remote):
            ctx.add(R.UNKNOWN, "ssh: remote command known only at run time")
        else:
            _classify_text(ctx, " ".join(w.text for w in remote), reason="ssh remote command")
    return _Flow("network")


def _rsync(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = _operands(args)
    if any(re.match(r"[^/]*:|rsync://", w.text) for w in operands):
        ctx.add(R.NETWORK_EGRESS, "rsync: network access")
    if "--delete" in _flags(args):
        ctx.add(R.DESTRUCTIVE, "rsync --delete")
    if operands and not re.match(r"[^/]*:|rsync://", operands[-1].text):
        _write_paths(ctx, verb, operands[-1:])
    return _UNKNOWN_INPUT


def _tar(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.LOCAL_WRITE, f"{verb}: writes into the working directory")
    for i, w in enumerate(args):
        if w.text in ("-C", "--directory", "-d") and i + 1 < len(args):
            finding = _write_target(ctx, args[i + 1])
            ctx.add(finding.risk, f"{verb}: {finding.reason}")
    return _UNKNOWN_INPUT


def _cd(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = _operands(args)
    if (
        not operands
        or classify_write_path(operands[0].text, cwd=ctx.cwd, dynamic=operands[0].dynamic).risk
        != R.LOCAL_WRITE
        or operands[0].text == "-"
    ):
        ctx.cwd_moved = True
    ctx.add(R.SAFE, verb)
    return _NO_INPUT


def _export(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    for w in args:
        if w.assignment:
            _assignment(ctx, w)
    ctx.add(R.SAFE, verb)
    return _NO_INPUT


def _loop_header(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.SAFE, f"{verb} loop")
    return _NO_INPUT


def _systemctl(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    operands = _operands(args)
    sub = operands[0].text if operands else ""
    if verb == "service" and (
        (len(operands) > 1 and operands[1].text == "status")
        or "--status-all" in (w.text for w in args)
    ):
        ctx.add(R.SAFE, "service status")
    elif verb == "systemctl" and (not sub or sub in _SYSTEMCTL_QUERIES):
        ctx.add(R.SAFE, f"systemctl {sub}".rstrip())
    elif sub in ("poweroff", "reboot", "halt", "kexec"):
        ctx.add(R.DESTRUCTIVE, f"systemctl {sub}")
    else:
        ctx.add(R.SYSTEM_WRITE, f"{verb} {sub}: changes system services".replace("  ", " "))
    return _UNKNOWN_INPUT


_SYSTEMCTL_QUERIES = _names(
    "status show list-units list-unit-files list-timers is-active is-enabled is-failed cat"
)


def _crontab(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    texts = [w.text for w in args]
    if "-l" in texts:
        ctx.add(R.SAFE, "crontab -l")
    elif "-r" in texts:
        ctx.add(R.DESTRUCTIVE, "crontab -r: deletes the crontab")
    else:
        ctx.add(R.SYSTEM_WRITE, "crontab: replaces the crontab")
    return _UNKNOWN_INPUT


def _ip(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    texts = [w.text for w in args]
    writes = {"add", "del", "delete", "set", "flush", "change", "replace", "append"}
    if (verb == "ip" and writes & set(texts)) or (
        verb == "sysctl" and any("=" in t or t in ("-w", "-p", "--load", "--system") for t in texts)
    ):
        ctx.add(R.SYSTEM_WRITE, f"{verb}: changes the system")
    else:
        ctx.add(R.SAFE, verb)
    return _UNKNOWN_INPUT


def _su(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    ctx.add(R.SYSTEM_WRITE, f"{verb}: runs as another user")
    for i, w in enumerate(args):
        if w.text in ("-c", "--command") and i + 1 < len(args):
            _code_string(ctx, args[i + 1], f"{verb} -c")
            return _UNKNOWN_INPUT
    ctx.add(R.CODE_EXECUTION, f"{verb}: opens a shell")
    return _UNKNOWN_INPUT


def _kill(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    texts = [w.text for w in args]
    if {"-l", "-L"} & set(texts):
        ctx.add(R.SAFE, "kill -l")
        return _UNKNOWN_INPUT
    i = 2 if texts[:1] in (["-s"], ["-n"]) else 1 if texts[:1] and texts[0][:1] == "-" else 0
    if texts[:1] == ["--"]:
        i = 0
    targets = [t for t in texts[i:] if t != "--"]
    if {"-1", "1"} & set(targets):
        ctx.add(R.DESTRUCTIVE, "kill: signals every process or init")
    else:
        ctx.add(R.SYSTEM_WRITE, "kill: signals processes")
    return _UNKNOWN_INPUT


def _openssl(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    sub = args[0].text if args else ""
    if sub in ("s_client", "s_server", "ocsp", "s_time"):
        ctx.add(R.NETWORK_EGRESS, f"openssl {sub}: network access")
        return _Flow("network")
    ctx.add(R.SAFE, f"openssl {sub}".strip())
    return _UNKNOWN_INPUT


def _sort(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    for i, w in enumerate(args):
        if w.text in ("-o", "--output") and i + 1 < len(args):
            _write_paths(ctx, verb, [args[i + 1]])
            return _UNKNOWN_INPUT
    ctx.add(R.SAFE, verb)
    return _UNKNOWN_INPUT


def _date(ctx: _Ctx, verb: str, args: list[Word], stdin: _Flow) -> _Flow:
    texts = [w.text for w in args]
    if verb == "date" and any(t in ("-s", "--set") or t.startswith("--set=") for t in texts):
        ctx.add(R.SYSTEM_WRITE, "date --set: changes the clock")
    elif verb == "hostname" and _operands(args):
        ctx.add(R.SYSTEM_WRITE, "hostname: renames the host")
    else:
        ctx.add(R.SAFE, verb)
    return _UNKNOWN_INPUT


_HANDLERS: dict[str, _Handler] = {
    "env": _env,
    "xargs": _xargs,
    "watch": _watch,
    "eval": _eval,
    "source": _source,
    ".": _source,
    "trap": _trap,
    "rm": _rm,
    "unlink": _rm,
    "chmod": _chmod,
    "chown": _chmod,
    "chgrp": _chmod,
    "dd": _dd,
    "mv": _mv,
    "sed": _sed,
    "gsed": _sed,
    "awk": _awk,
    "gawk": _awk,
    "mawk": _awk,
    "nawk": _awk,
    "find": _find,
    "git": _git,
    "docker": _docker,
    "podman": _docker,
    "curl": _network_with_output,
    "wget": _network_with_output,
    "ssh": _ssh,
    "rsync": _rsync,
    "tar": _tar,
    "unzip": _tar,
    "zip": _tar,
    "cd": _cd,
    "pushd": _cd,
    "export": _export,
    "for": _loop_header,
    "select": _loop_header,
    "systemctl": _systemctl,
    "service": _systemctl,
    "crontab": _crontab,
    "ip": _ip,
    "sysctl": _ip,
    "su": _su,
    "runuser": _su,
    "kill": _kill,
    "openssl": _openssl,
    "sort": _sort,
    "date": _date,
    "hostname": _date,
    **dict.fromkeys(_SHELLS, _shell),
    **dict.fromkeys(_FETCH_AND_RUN, _fetch_and_run),
}
