"""Hostile input and hostile output directories that are made at run time, not committed.

tests/bad/ holds the bad inputs worth keeping as files. This module makes the rest: a 10 MB
inventory, a file over 64 MiB, /dev/zero, FIFOs, alias bombs, symlinks where OUT or a directory
of OUT should be, and names that try to leave OUT. netgen runs in a subprocess wherever a hang,
a crash of the C YAML parser or a runaway allocation could take pytest down with it; memory is
bounded there with RLIMIT_AS, and ``timeout=`` is only a hang guard: no test asserts how long
netgen takes.

Every run must end with a diagnostic or an error message, exit 1 (2 for a path that cannot be
read) and never show a traceback, an internal error or die of a signal; every file outside OUT,
and OUT itself when the run fails, must stay exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import netgen
from conftest import ROOT

EXAMPLE = ROOT / "inventories" / "example.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text()
FACTS_CASE = ROOT / "tests" / "bad" / "facts-for-unknown-host"
ALIAS_BOMB = ROOT / "tests" / "bad" / "alias-bomb.yaml"

MIB = 1 << 20
GIB = 1 << 30
#: a hang guard for runs that take a second; it is never a statement about speed
HANG_GUARD = 120
#: for runs that must not wait for a writer or a reader that never comes
BLOCKING_GUARD = 20

_DIAGNOSTIC = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): (?:error|warning)\[(?P<code>NG\d{3})\]: (?P<message>.*)$"
)

#: the inventory of tests/bad/facts-for-unknown-host without its comments: valid, with facts
#: for cp-1 (ip -j link) in that case's directory
FACTS_INVENTORY = "apiVersion:" + (FACTS_CASE / "inventory.yaml").read_text().split("apiVersion:", 1)[1]

#: a valid one-host inventory on a /16, the start of the large inventories below
SMALL = """\
apiVersion: netgen/v1alpha1
kind: Inventory
clusters:
  - name: lab
    families: [ipv4]
    kubernetes:
      podCIDRs: ["10.244.0.0/16"]
      serviceCIDRs: ["10.96.0.0/12"]
    networks:
      - name: mgmt
        cidrs: ["10.0.0.0/16"]
    controlPlane:
      vips: ["10.0.0.100"]
    hosts:
      - name: cp-1
        role: controlplane
        nics:
          - mac: "52:54:00:7a:66:a0"
            network: mgmt
            addresses: ["10.0.0.11/16"]
"""


# --- running netgen ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def diagnostics(self) -> list[tuple[str, str, int, int, str]]:
        """(file, code, line, column, message) of every diagnostic in text output, in order."""
        return [
            (m["file"], m["code"], int(m["line"]), int(m["column"]), m["message"])
            for m in map(_DIAGNOSTIC.match, self.stderr.splitlines())
            if m is not None
        ]


def _limits(address_space: int | None) -> Callable[[], None]:
    def apply() -> None:
        # a crash of the C parser must not leave a core file behind
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def run_netgen(*args: str | os.PathLike[str], memory: int | None = None, timeout: float = HANG_GUARD) -> Run:
    """``netgen ARGS`` in a child process, its address space limited to ``memory`` bytes."""
    command = [sys.executable, "-m", "netgen", *map(str, args)]
    return _run(command, memory, timeout)


def _run(command: list[str], memory: int | None, timeout: float) -> Run:
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limits(memory),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(command[2:])} did not finish within {timeout} s (hang guard)")
    return Run(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def assert_clean(run: Run) -> None:
    """Ended by netgen itself: no signal, no traceback, no internal error."""
    assert run.exit_code >= 0, f"killed by signal {-run.exit_code}\n{run.stderr[-2000:]}"
    assert run.exit_code != 70, run.stderr[-2000:]
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    assert "internal error" not in output
    assert "Fatal Python error" not in output


# --- looking at trees ----------------------------------------------------------------------------


def tree(root: Path) -> dict[str, object]:
    """Every entry under root, symlinks not followed: file bytes (size for big ones) and mtimes,
    link targets, directories, and the kind of anything else (a FIFO is never opened)."""
    entries: dict[str, object] = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top) / name
            info = path.lstat()
            relative = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link", str(path.readlink()))
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("dir",)
            elif stat.S_ISREG(info.st_mode) and info.st_size <= 16 * MIB:
                entries[relative] = ("file", path.read_bytes(), info.st_mtime_ns)
            else:
                entries[relative] = ("other", stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)
    return entries


def previous_render(out: Path) -> Path:
    """OUT holding a render of the example and a file netgen did not write."""
    netgen.write(netgen.render(netgen.load(EXAMPLE)), out)
    (out / "NOTES.md").write_text("hand-written notes netgen must never touch\n")
    return out


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


# --- a 10 MB inventory ---------------------------------------------------------------------------

WORKER = """\
      - name: worker-{index}
        role: worker
        nics:
          - mac: "52:54:00:7a:66:a0"
            network: mgmt
            addresses: ["10.0.{third}.{fourth}/16"]
"""


def test_ten_megabyte_inventory_reports_every_repeated_mac(tmp_path: Path) -> None:
    """A valid inventory followed by 10 MB of hosts pasted from cp-1: every one repeats its MAC.

    Each repetition is reported at its own line, in one run, within 1.5 GiB of address space;
    OUT keeps the previous render.
    """
    parts, size, mac_lines = [SMALL], len(SMALL), []
    line = SMALL.count("\n") + 1
    while size < 10 * MIB:
        index = len(mac_lines) + 1
        # distinct addresses from 10.0.1.2 on: only the MAC is repeated
        number = index + 256
        worker = WORKER.format(index=index, third=number // 250, fourth=number % 250 + 1)
        mac_lines.append(line + 3)
        parts.append(worker)
        size += len(worker)
        line += worker.count("\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("".join(parts))
    out = previous_render(tmp_path / "out")
    before = tree(tmp_path)

    run = run_netgen("render", inventory, "-o", out, memory=3 * GIB // 2, timeout=900)

    assert_clean(run)
    assert run.exit_code == 1
    assert run.stdout == ""
    found = run.diagnostics()
    assert Counter(code for _, code, _, _, _ in found) == {"NG104": len(mac_lines)}
    assert [(file, line, column) for file, _, line, column, _ in found] == [(str(inventory), n, 18) for n in mac_lines]
    assert found[0][4] == "MAC 52:54:00:7a:66:a0 is used by hosts cp-1 and worker-1"
    assert found[-1][4] == f"MAC 52:54:00:7a:66:a0 is used by hosts cp-1 and worker-{len(mac_lines)}"
    assert tree(tmp_path) == before


# --- files too large to read: bounded reads ------------------------------------------------------

#: enough for netgen and a read of 64 MiB, far too little for a read of 1 GiB
BOUNDED_READ = 384 * MIB


def sparse_file(path: Path, head: str, size: int) -> Path:
    """``head`` followed by NUL bytes up to ``size``: a hole, so it costs no disk space."""
    path.write_text(head)
    os.truncate(path, size)
    return path


def test_the_memory_limit_would_stop_a_full_read(tmp_path: Path) -> None:
    """The premise of the tests below: under BOUNDED_READ, reading the whole 1 GiB file fails."""
    image = sparse_file(tmp_path / "disk.img", SMALL, GIB)
    read_all = [sys.executable, "-c", "import sys; open(sys.argv[1], 'rb').read()", str(image)]
    run = _run(read_all, BOUNDED_READ, HANG_GUARD)
    assert run.exit_code != 0
    assert "MemoryError" in run.stderr


@pytest.mark.parametrize("command", ["validate", "render"])
def test_file_over_64_mib_is_refused_without_reading_it(tmp_path: Path, command: str) -> None:
    """A VM disk image passed as the inventory: 1 GiB that starts like an inventory."""
    image = sparse_file(tmp_path / "inventory.yaml", SMALL, GIB)
    out = previous_render(tmp_path / "out")
    before = tree(tmp_path)
    args = ["-o", out] if command == "render" else []
    run = run_netgen(command, image, *args, memory=BOUNDED_READ)
    assert_clean(run)
    assert run.exit_code == 1
    assert run.diagnostics() == [(str(image), "NG006", 1, 1, "the file is larger than 64 MiB")]
    assert tree(tmp_path) == before


def test_dev_zero_as_the_inventory_is_refused_without_reading_it() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    run = run_netgen("validate", "/dev/zero", memory=BOUNDED_READ)
    assert_clean(run)
    assert run.exit_code == 1
    assert run.diagnostics() == [("/dev/zero", "NG006", 1, 1, "the file is larger than 64 MiB")]


def facts_inventory(tmp_path: Path) -> Path:
    return put(tmp_path / "inventory.yaml", FACTS_INVENTORY)


def test_facts_file_over_64_mib_is_refused_without_reading_it(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    (tmp_path / "facts").mkdir()
    facts = sparse_file(tmp_path / "facts" / "cp-1.json", "[]\n", GIB)
    run = run_netgen("validate", inventory, "--facts", tmp_path / "facts", memory=BOUNDED_READ)
    assert_clean(run)
    assert run.exit_code == 1
    assert run.diagnostics() == [(str(facts), "NG006", 1, 1, "the file is larger than 64 MiB")]


def test_dev_zero_as_facts_is_refused_without_reading_it(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    run = run_netgen("validate", inventory, "--facts", "/dev/zero", memory=BOUNDED_READ)
    assert_clean(run)
    assert run.exit_code == 1
    assert ("/dev/zero", "NG006") in [(file, code) for file, code, *_ in run.diagnostics()]


# --- alias bombs ---------------------------------------------------------------------------------

#: a third of what the 10 MB inventory above is given: an alias bomb must not need more
BOMB_MEMORY = 512 * MIB


def twelve_levels() -> str:
    """A billion laughs of 14 levels where tests/bad/alias-bomb.yaml has 9: 5 * 10**13 values."""
    lines = ["apiVersion: netgen/v1alpha1", "kind: Inventory", 'x-0: &l0 ["lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 13):
        lines.append(f"x-{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append("clusters: [" + ", ".join(["*l12"] * 10) + "]")
    return "\n".join(lines) + "\n"


def wide() -> str:
    """One list of 2,000 addresses aliased 20,000 times: 40 million values from 170 kB of text."""
    addresses = "[" + ", ".join(f'"10.0.{i // 250}.{i % 250}"' for i in range(2000)) + "]"
    clusters = "[" + ", ".join(["*pool"] * 20000) + "]"
    return f"apiVersion: netgen/v1alpha1\nkind: Inventory\nx-pool: &pool {addresses}\nclusters: {clusters}\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ALIAS_BOMB.read_text(), id="billion-laughs"),
        pytest.param(twelve_levels(), id="twelve-levels"),
        pytest.param(wide(), id="one-list-many-aliases"),
    ],
)
def test_alias_bomb_is_refused_within_bounded_memory(tmp_path: Path, text: str) -> None:
    inventory = put(tmp_path / "inventory.yaml", text)
    out = previous_render(tmp_path / "out")
    before = tree(tmp_path)
    run = run_netgen("render", inventory, "-o", out, memory=BOMB_MEMORY)
    assert_clean(run)
    assert run.exit_code == 1
    [(file, code, line, column, message)] = run.diagnostics()
    assert (file, code) == (str(inventory), "NG006")
    assert text.splitlines()[line - 1][column - 1] == "*", "not located at the alias that goes past the budget"
    assert "YAML aliases" in message
    assert tree(tmp_path) == before


def test_aliased_hosts_below_the_expansion_budget_stay_within_bounded_memory(tmp_path: Path) -> None:
    nics = "".join(
        f'          - mac: "52:54:00:7a:66:{i:02x}"\n            network: mgmt\n'
        f'            addresses: ["10.0.0.{11 + i}/16"]\n'
        for i in range(8)
    )
    head = SMALL.split("      - name: cp-1\n", maxsplit=1)[0]
    text = head + "      - &cp\n        name: cp-1\n        role: controlplane\n        nics:\n" + nics
    inventory = put(tmp_path / "inventory.yaml", text + "      - *cp\n" * 20000)
    run = run_netgen("validate", inventory, memory=BOMB_MEMORY, timeout=600)
    assert_clean(run)
    assert run.exit_code == 1


# --- nesting the C parser cannot take ------------------------------------------------------------


def test_deep_block_nesting_is_refused_before_parsing(tmp_path: Path) -> None:
    text = "apiVersion: netgen/v1alpha1\nkind: Inventory\nclusters:\n  " + "- " * 100_000 + "x\n"
    inventory = put(tmp_path / "inventory.yaml", text)
    run = run_netgen("validate", inventory)
    assert_clean(run)
    assert run.exit_code == 1
    assert [code for _, code, *_ in run.diagnostics()] == ["NG006"]


def test_deep_block_nesting_in_facts_is_refused_before_parsing(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    facts = put(tmp_path / "facts" / "cp-1.yaml", "node: 192.168.10.11\nmetadata:\n  " + "- " * 100_000 + "x\n")
    run = run_netgen("validate", inventory, "--facts", facts)
    assert_clean(run)
    assert run.exit_code == 1
    assert [(file, code) for file, code, *_ in run.diagnostics()] == [(str(facts), "NG006")]


def test_flow_nesting_hidden_behind_brackets_in_a_comment_is_refused(tmp_path: Path) -> None:
    depth = 100_000
    text = "# " + "]" * depth + "\napiVersion: netgen/v1alpha1\nkind: Inventory\nclusters: "
    inventory = put(tmp_path / "inventory.yaml", text + "[" * depth + "]" * depth + "\n")
    run = run_netgen("validate", inventory)
    assert_clean(run)
    assert run.exit_code == 1
    assert [(code, line) for _, code, line, *_ in run.diagnostics()] == [("NG006", 4)]


def test_integer_of_5000_digits_in_facts_is_a_diagnostic(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    text = (FACTS_CASE / "facts" / "cp-1.json").read_text()
    facts = put(tmp_path / "facts" / "cp-1.json", replace_once(text, '"mtu": 1500', '"mtu": 1' + "5" * 5000))
    run = run_netgen("validate", inventory, "--facts", facts)
    assert_clean(run)
    assert run.exit_code == 1


# --- paths that cannot be read: exit 2 -----------------------------------------------------------


def test_directory_as_the_inventory(tmp_path: Path) -> None:
    run = run_netgen("validate", tmp_path)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"netgen: error: inventory {tmp_path} is a directory, not a file\n"


def test_dangling_symlink_as_the_inventory(tmp_path: Path) -> None:
    link = tmp_path / "inventory.yaml"
    link.symlink_to(tmp_path / "moved-away.yaml")
    run = run_netgen("render", link, "-o", tmp_path / "out")
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"netgen: error: inventory {link} does not exist\n"
    assert not (tmp_path / "out").exists()


def test_dangling_symlink_as_facts(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    link = tmp_path / "facts"
    link.symlink_to(tmp_path / "moved-away")
    run = run_netgen("validate", inventory, "--facts", link)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"netgen: error: facts path {link} does not exist\n"


def test_fifo_as_the_inventory(tmp_path: Path) -> None:
    fifo = tmp_path / "inventory.yaml"
    os.mkfifo(fifo)
    run = run_netgen("validate", fifo, timeout=BLOCKING_GUARD)
    assert_clean(run)
    assert run.exit_code == 2
    assert str(fifo) in run.stderr


def test_fifo_as_facts(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    fifo = tmp_path / "cp-1.json"
    os.mkfifo(fifo)
    run = run_netgen("validate", inventory, "--facts", fifo, timeout=BLOCKING_GUARD)
    assert_clean(run)
    assert run.exit_code == 2
    assert str(fifo) in run.stderr


def test_fifo_in_a_facts_directory_is_not_opened(tmp_path: Path) -> None:
    """Like a hidden file or a subdirectory, a FIFO in a facts directory is no facts file."""
    inventory = facts_inventory(tmp_path)
    facts = tmp_path / "facts"
    facts.mkdir()
    shutil.copy(FACTS_CASE / "facts" / "cp-1.json", facts / "cp-1.json")
    os.mkfifo(facts / "cp-4.json")
    run = run_netgen("validate", inventory, "--facts", facts, timeout=BLOCKING_GUARD)
    assert_clean(run)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")


def _unreadable(path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode; the dangling-symlink tests cover exit 2 there")
    path.chmod(0)


def test_unreadable_inventory(tmp_path: Path) -> None:
    inventory = put(tmp_path / "inventory.yaml", EXAMPLE_TEXT)
    _unreadable(inventory)
    run = run_netgen("validate", inventory)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"netgen: error: cannot read inventory {inventory}: Permission denied\n"


def test_unreadable_facts_file(tmp_path: Path) -> None:
    inventory = facts_inventory(tmp_path)
    facts = tmp_path / "cp-1.json"
    shutil.copy(FACTS_CASE / "facts" / "cp-1.json", facts)
    _unreadable(facts)
    run = run_netgen("validate", inventory, "--facts", facts)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"netgen: error: cannot read facts file {facts}: Permission denied\n"


# --- OUT that cannot be written: exit 1, nothing changed anywhere --------------------------------


def _out_is_the_inventory(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    return inventory, f"{inventory} exists and is not a directory"


def _out_below_a_file(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    notes = put(tmp_path / "notes.txt", "mine\n")
    return notes / "out", f"cannot write to {notes / 'out'}"


def _out_dangling_symlink(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "nowhere", target_is_directory=True)
    return link, "is a symbolic link"


def _out_symlink_to_a_render(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    previous_render(tmp_path / "elsewhere")
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    return link, "is a symbolic link"


def _out_symlink_to_a_file(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    link = tmp_path / "out"
    link.symlink_to(put(tmp_path / "notes.txt", "mine\n"))
    return link, "is a symbolic link"


def _out_directory_is_a_symlink(tmp_path: Path, inventory: Path) -> tuple[Path, str]:
    """A directory of a previous render replaced by a link to a directory outside OUT."""
    out = previous_render(tmp_path / "out")
    put(tmp_path / "victim" / "cp-1.yaml", "machine: {}\n")
    shutil.rmtree(out / "lab" / "talos" / "nodes")
    (out / "lab" / "talos" / "nodes").symlink_to(tmp_path / "victim", target_is_directory=True)
    return out, f"{out / 'lab' / 'talos' / 'nodes'} is not a directory of OUT"


OUT_CASES = {
    "out-is-the-inventory": _out_is_the_inventory,
    "out-below-a-file": _out_below_a_file,
    "out-dangling-symlink": _out_dangling_symlink,
    "out-symlink-to-a-render": _out_symlink_to_a_render,
    "out-symlink-to-a-file": _out_symlink_to_a_file,
    "out-directory-is-a-symlink": _out_directory_is_a_symlink,
}


@pytest.mark.parametrize("case", sorted(OUT_CASES))
def test_out_that_cannot_be_written(tmp_path: Path, case: str) -> None:
    inventory = put(tmp_path / "inventory.yaml", EXAMPLE_TEXT)
    out, message = OUT_CASES[case](tmp_path, inventory)
    before = tree(tmp_path)
    run = run_netgen("render", inventory, "-o", out)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.startswith("netgen: error: ")
    assert message in run.stderr
    assert len(run.stderr.splitlines()) == 1
    assert tree(tmp_path) == before


def test_out_in_proc_is_an_error() -> None:
    """/proc takes no new directories, even from root."""
    out = Path("/proc/1/netgen-out")
    if not Path("/proc/1").is_dir() or out.exists():
        pytest.skip("needs /proc/1 without netgen-out")
    run = run_netgen("render", EXAMPLE, "-o", out)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.startswith(f"netgen: error: cannot write to {out}")
    assert not out.exists()


def test_generated_file_replaced_by_a_symlink_is_rewritten_in_place(tmp_path: Path) -> None:
    """A symlink where netgen writes a file is replaced by the file; its target is not written."""
    out = previous_render(tmp_path / "out")
    victim = put(tmp_path / "victim.yaml", "keep me\n")
    node = out / "lab" / "talos" / "nodes" / "cp-1.yaml"
    good = node.read_bytes()
    node.unlink()
    node.symlink_to(victim)
    run = run_netgen("render", EXAMPLE, "-o", out)
    assert_clean(run)
    assert run.exit_code == 0, run.stderr
    assert not node.is_symlink()
    assert node.read_bytes() == good
    assert victim.read_text() == "keep me\n"


def test_out_with_a_name_too_long_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / ("o" * 300)
    run = run_netgen("render", EXAMPLE, "-o", out)
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (1, "")


def test_facts_path_with_a_name_too_long_is_a_usage_error(tmp_path: Path) -> None:
    run = run_netgen("validate", EXAMPLE, "--facts", tmp_path / ("f" * 300))
    assert_clean(run)
    assert (run.exit_code, run.stdout) == (2, "")


# --- names that try to leave OUT -----------------------------------------------------------------

#: where each name of the example is written, and the file or directory it becomes
NAME_FIELDS = {
    "cluster": ("  - name: lab\n", "  - name: {}\n"),  # OUT/<cluster>/
    "host": ("      - name: cp-2\n", "      - name: {}\n"),  # talos/nodes/<host>.yaml
    "attachment-namespace": ("        namespace: storage\n", "        namespace: {}\n"),  # attachments/<ns>/
    "attachment-name": ("      - name: storage\n        namespace", "      - name: {}\n        namespace"),
    "vcluster": ("      - name: team-a\n", "      - name: {}\n"),  # vcluster/<name>.yaml
}
ESCAPING_NAMES = {
    "parent": "../../../escaped",
    "absolute": "/tmp/netgen-escaped",
    "dot-dot": "..",
    "dot": ".",
    "hidden": ".hidden",
    "slash": "lab/prod",
    "nul": "bad\0name",
    "long": "n" * 64,
}


@pytest.mark.parametrize("name", sorted(ESCAPING_NAMES))
@pytest.mark.parametrize("field", sorted(NAME_FIELDS))
def test_names_that_would_leave_out_are_refused(run_cli, tmp_path: Path, field: str, name: str) -> None:
    old, new = NAME_FIELDS[field]
    # a JSON string is a YAML double-quoted scalar: the NUL is written as the escape \u0000
    quoted = json.dumps(ESCAPING_NAMES[name])
    written = new.format(quoted)
    text = replace_once(EXAMPLE_TEXT, old, written)
    line, _ = position(text, written)
    column = written.index(quoted) + 1
    inventory = put(tmp_path / "inventory.yaml", text)
    before = tree(tmp_path)
    result = run_cli("render", inventory, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    reported = [
        (m["code"], int(m["line"]), int(m["column"])) for m in map(_DIAGNOSTIC.match, result.stderr.splitlines()) if m
    ]
    assert reported == [("NG013", line, column)], result.stderr
    assert "DNS-1123 label" in result.stderr
    assert tree(tmp_path) == before
    assert not Path("/tmp/netgen-escaped").exists()


# --- tags never construct anything ---------------------------------------------------------------

TAGS = {
    "object-apply-os-system": "!!python/object/apply:os.system [{command}]",
    "object-apply-check-call": '!!python/object/apply:subprocess.check_call [["sh", "-c", {command}]]',
    "object-new": "!!python/object/new:subprocess.Popen [{command}]",
    "name": "!!python/name:os.system",
    "module": "!!python/module:os",
    "local-tag": "!Sub {command}",
}


@pytest.mark.parametrize("tag", sorted(TAGS))
def test_tags_never_construct_anything(run_cli, tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "constructed"
    value = TAGS[tag].format(command=json.dumps(f"touch {marker}"))
    text = replace_once(EXAMPLE_TEXT, "      - name: cp-2\n", f"      - name: {value}\n")
    line, column = position(text, value)
    inventory = put(tmp_path / "inventory.yaml", text)
    for command in (["validate", inventory], ["render", inventory, "-o", tmp_path / "out"]):
        result = run_cli(*command)
        assert result.exit_code == 1
        [match] = [m for m in map(_DIAGNOSTIC.match, result.stderr.splitlines()) if m]
        assert (match["code"], int(match["line"]), int(match["column"])) == ("NG005", line, column)
        assert not marker.exists()
    assert not (tmp_path / "out").exists()


# --- the library: paths netgen.write refuses, beyond tests/test_write.py -------------------------


@pytest.mark.parametrize("bad", ["..", ".", "./", "lab/..", "lab/../.."])
def test_write_refuses_dot_paths(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "out"
    netgen.write({"ok.yaml": "old\n"}, out)
    before = tree(tmp_path)
    with pytest.raises(netgen.OutputError, match="must stay inside OUT"):
        netgen.write({"ok.yaml": "new\n", bad: "escaped\n"}, out)
    assert tree(tmp_path) == before


def test_write_does_not_follow_a_symlinked_directory_of_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write({"lab/a.yaml": "a\n"}, out)
    shutil.rmtree(out / "lab")
    put(tmp_path / "victim" / "a.yaml", "keep me\n")
    (out / "lab").symlink_to(tmp_path / "victim", target_is_directory=True)
    before = tree(tmp_path)
    with pytest.raises(netgen.OutputError, match="is not a directory of OUT"):
        netgen.write({"lab/a.yaml": "new\n", "lab/b.yaml": "b\n"}, out)
    assert tree(tmp_path) == before


def test_write_keeps_a_backslash_name_inside_out(tmp_path: Path) -> None:
    """On POSIX a backslash is part of a file name, not a separator: nothing lands beside OUT."""
    out = tmp_path / "sub" / "out"
    netgen.write({"..\\escaped.yaml": "x\n"}, out)
    assert (out / "..\\escaped.yaml").read_text() == "x\n"
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert names == {"sub", "sub/out", "sub/out/..\\escaped.yaml", "sub/out/netgen-manifest.json"}


def test_write_of_a_name_too_long_is_an_output_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write({"ok.yaml": "old\n"}, out)
    before = tree(tmp_path)
    with pytest.raises(netgen.OutputError):
        netgen.write({"ok.yaml": "new\n", "n" * 300 + ".yaml": "x\n"}, out)
    assert tree(tmp_path) == before
