"""Sharing one server among a class: a fair queue for training turns and a bounded table of held runs.

No Streamlit here (testable alone); app/training.py keeps one of each per server (`st.cache_resource`).

- `RunQueue`: at most `capacity[lane]` runs train at once in each lane ("cpu", "gpu"); the others wait in first-come
  order and learn their place ("2 runs ahead of yours"). A run keeps its turn for `quantum_s` seconds, then goes to
  the back of the queue if others wait, so one student's hour-long run cannot starve the room. A run that stops
  asking for turns (its page was left, its tab closed) loses its turn after `stale_s` seconds.
- `RunTable`: every run a session holds (trained or not, with its model and optimiser in memory), at most
  `max_runs` of them and at most `max_bytes` of their tensors. Runs are held weakly: when Streamlit forgets a
  session its runs disappear from the table. A closed tab's session is kept by Streamlit for about two minutes
  (for a reconnect); its runs are released (trainer dropped, memory freed) once it has been disconnected for
  `release_after_s`, or as soon as the server has forgotten it. `start_pruning` checks every few seconds, so
  memory comes back after the class leaves even when nobody opens a page. It first freezes what the server has
  loaded so far (`gc.freeze`, once per process), so that its collections scan only what sessions made since.
- `SessionReaper`: a closed tab's whole session (its session state: results, figures, uploads) is forgotten once it
  has been disconnected for `after_s`, not when Streamlit's reconnect window of about two minutes ends. The pruner
  runs it on every check, and collects garbage a second after it closed any (at most once per 10 s).
- `return_memory_to_os`: glibc keeps freed heap memory for reuse, so without it a server's RSS stays at its peak
  long after the sessions that used it are gone; the pruner hands it back on every check.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

SHARED_STORAGE: set[int] = set()  # data pointers of the shared read-only models: not counted per run


def share_storage(model: torch.nn.Module) -> None:
    """Mark a shared (cache_resource) model's tensors: a run that uses it read-only is not charged for them."""
    SHARED_STORAGE.update(t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers()))


def return_memory_to_os() -> bool:
    """Give the heap memory freed since the last call back to the operating system (glibc's malloc_trim: ~50 ms
    after a class has left, well under a millisecond when there is nothing to return). Linux with glibc only;
    elsewhere nothing happens. True when memory was returned."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # macOS, Windows, musl: their allocators return memory themselves, or this cannot help
        return False
    return bool(libc.malloc_trim(0))


_FROZEN = threading.Event()


def freeze_what_is_loaded() -> None:
    """Once per process: leave everything loaded so far (torch, transformers, plotly, Streamlit: ~300k objects,
    never garbage) out of every later garbage collection, which then costs milliseconds instead of 0.15-0.4 s.
    Called when the server's table of runs is made, in its first page's sidebar, before any run exists: objects
    frozen here are never collected, so a session's runs must not be among them."""
    if not _FROZEN.is_set():
        _FROZEN.set()
        gc.freeze()


class ServerFullError(ValueError):
    """The server holds as many runs (or bytes of runs) as it may; the message says what to do."""


# ---------------------------------------------------------------------------------------------- the queue
@dataclass
class _Turn:
    since: float  # when this run got its turn
    seen: float  # when it last asked


class RunQueue:
    def __init__(
        self,
        capacity: dict[str, int],  # runs training at once per lane, e.g. {"cpu": 2, "gpu": 2}
        quantum_s: float = 30.0,  # a turn lasts this long when others wait
        stale_s: float = 10.0,  # a run that has not asked for this long leaves the queue
        clock: Callable[[], float] = time.monotonic,
    ):
        self.capacity = dict(capacity)
        self.quantum_s, self.stale_s, self.clock = quantum_s, stale_s, clock
        self._holders: dict[str, dict[str, _Turn]] = {lane: {} for lane in self.capacity}
        self._waiting: dict[str, dict[str, float]] = {lane: {} for lane in self.capacity}
        self._lock = threading.Lock()

    def request(self, run_id: str, lane: str = "cpu") -> int | None:
        """None: train now. An int: wait; that many runs are ahead of this one in the queue."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            holders, waiting = self._holders[lane], self._waiting[lane]
            turn = holders.get(run_id)
            if turn is not None:
                if not (waiting and now - turn.since > self.quantum_s):
                    turn.seen = now
                    return None
                del holders[run_id]  # the turn is over and others wait: to the back of the queue
                waiting.pop(run_id, None)
            waiting[run_id] = now  # a new waiter goes to the back; a known one keeps its place
            free = self.capacity[lane] - len(holders)
            ahead = list(waiting).index(run_id)
            if ahead < free:
                del waiting[run_id]
                holders[run_id] = _Turn(now, now)
                return None
            return ahead

    def release(self, run_id: str) -> None:
        """The run paused, finished, failed or was reset: its turn (or place) goes to the next."""
        with self._lock:
            for lane in self.capacity:
                self._holders[lane].pop(run_id, None)
                self._waiting[lane].pop(run_id, None)

    def counts(self, lane: str = "cpu") -> tuple[int, int]:
        """(training now, waiting) in a lane."""
        with self._lock:
            self._expire(self.clock())
            return len(self._holders[lane]), len(self._waiting[lane])

    def _expire(self, now: float) -> None:
        for lane in self.capacity:
            for run_id, turn in list(self._holders[lane].items()):
                if now - turn.seen > self.stale_s:
                    del self._holders[lane][run_id]
            for run_id, seen in list(self._waiting[lane].items()):
                if now - seen > self.stale_s:
                    del self._waiting[lane][run_id]


# ---------------------------------------------------------------------------------------------- closed tabs
class SessionReaper:
    def __init__(
        self,
        list_disconnected: Callable[[], list[str] | None],  # ids of disconnected sessions (None: unknown)
        close: Callable[[str], bool],  # forget one; True when done (or scheduled)
        after_s: float = 60.0,  # a session disconnected this long is forgotten
        clock: Callable[[], float] = time.monotonic,
    ):
        self.list_disconnected, self.close = list_disconnected, close
        self.after_s, self.clock = after_s, clock
        self._since: dict[str, float] = {}  # session id -> first seen disconnected

    def reap(self) -> int:
        """Close the sessions disconnected for longer than `after_s`; the number closed."""
        now, ids = self.clock(), self.list_disconnected()
        if ids is None:
            return 0
        self._since = {sid: self._since.get(sid, now) for sid in ids}  # reconnected ones drop out
        closed = 0
        for sid, since in list(self._since.items()):
            if now - since > self.after_s and self.close(sid):
                del self._since[sid]
                closed += 1
        return closed


# ---------------------------------------------------------------------------------------------- held runs
def tensor_bytes(obj, skip: set[int] | frozenset = frozenset(), depth: int = 4) -> int:
    """Bytes of the distinct tensors and arrays reachable from `obj` (modules, optimisers, lists, dicts,
    attributes, `depth` levels down), not counting storages whose data pointer is in `skip` (shared models)."""
    seen: set[int] = set()
    visited: set[int] = set()

    def walk(item, level: int) -> int:
        if id(item) in visited or level < 0:
            return 0
        visited.add(id(item))
        if isinstance(item, torch.Tensor):
            try:
                storage = item.untyped_storage()
            except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
                return item.numel() * item.element_size()
            ptr = storage.data_ptr()
            if ptr in seen or ptr in skip or ptr == 0:  # 0: meta or empty
                return 0
            seen.add(ptr)
            return storage.nbytes()
        if isinstance(item, np.ndarray):
            return item.nbytes if item.base is None else 0
        if isinstance(item, torch.nn.Module):
            return sum(walk(t, 0) for t in (*item.parameters(), *item.buffers()))
        if isinstance(item, torch.optim.Optimizer):
            return sum(walk(v, level - 1) for v in item.state.values())
        if isinstance(item, dict):
            return sum(walk(v, level - 1) for v in list(item.values())[:1000])
        if isinstance(item, (list, tuple)):
            return sum(walk(v, level - 1) for v in item[:1000])
        if hasattr(item, "__dict__") and not isinstance(item, type):
            return sum(walk(v, level - 1) for v in vars(item).values())
        return 0

    return walk(obj, depth)


@dataclass
class _Held:
    owner: str  # the holding session's own token (one per session state)
    session_id: str | None  # Streamlit's id of that session, to ask the server whether it still exists
    ref: weakref.ref
    run_id: str  # the queue's name for it
    nbytes: int


class RunTable:
    def __init__(
        self,
        max_runs: int,  # runs held at once, server-wide
        max_bytes: int,  # bytes of tensors those runs may hold together
        # 'connected' / 'disconnected' / 'gone' / None (unknown) for a Streamlit session id
        session_status: Callable[[str], str | None] = lambda _sid: None,
        on_drop: Callable[[str], None] = lambda _run_id: None,  # e.g. give back a queue turn
        release_after_s: float = 60.0,  # a disconnected session's runs are released after this
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_runs, self.max_bytes = max_runs, max_bytes
        self.session_status, self.on_drop = session_status, on_drop
        self.release_after_s, self.clock = release_after_s, clock
        self._held: dict[tuple[str, str], _Held] = {}  # (owner, slug) -> the run
        self._disconnected_since: dict[str, float] = {}  # session id -> first seen disconnected
        self._lock = threading.Lock()

    def prune(self) -> None:
        with self._lock:
            self._prune()

    def start_pruning(
        self,
        every_s: float = 10.0,
        collect_every: int = 6,
        reaper: SessionReaper | None = None,
        min_collect_gap_s: float = 10.0,
        closing_s: float = 1.0,
        on_collect: Callable[[float, int], None] = lambda _cpu_s, _found: None,
    ) -> threading.Thread:
        """Prune every `every_s` seconds in a daemon thread while this table exists, forget closed tabs' sessions
        (`reaper`), and hand freed memory back to the OS. Every `collect_every` checks (a minute), and `closing_s`
        after it closed sessions, it also runs a full garbage collection: the server does not collect after every
        page (.streamlit/config.toml, runner.postScriptGC), which cost ~0.4 CPU-s per page once torch and the models
        are loaded. A collection after closed sessions waits until `min_collect_gap_s` have passed since the last
        one (then it comes on a later check), so collections never come closer together than that, whatever the
        checks' interval. `on_collect(cpu_s, objects_found)` hears of each (the server logs the costly ones)."""
        freeze_what_is_loaded()
        table = weakref.ref(self)

        def loop():
            tick, pending, last_collect = 0, False, time.monotonic()
            while (current := table()) is not None:
                current.prune()
                del current
                tick += 1
                if reaper is not None and reaper.reap():
                    pending = True
                    time.sleep(closing_s)  # the sessions close on the server's event loop
                due = tick % collect_every == 0
                if due or (pending and time.monotonic() - last_collect >= min_collect_gap_s):
                    cpu = time.thread_time()
                    found = gc.collect()
                    on_collect(time.thread_time() - cpu, found)
                    pending, last_collect = False, time.monotonic()
                return_memory_to_os()
                time.sleep(every_s)

        thread = threading.Thread(target=loop, name="run-table-pruner", daemon=True)
        thread.start()
        return thread

    def check_room(self, owner: str, slug: str, nbytes: int = 0) -> None:
        """Raise ServerFullError unless a new run for (owner, slug) fits (it replaces the owner's old one)."""
        with self._lock:
            self._prune()
            if self._fits(owner, slug, nbytes):
                return
        gc.collect()  # runs of closed sessions may only wait for the garbage collector
        with self._lock:
            self._prune()
            if self._fits(owner, slug, nbytes):
                return
            mine = sum(1 for (o, _s) in self._held if o == owner)
            raise ServerFullError(
                f"The server is full: it holds {len(self._held)} training runs "
                f"({self._total_bytes() / 2**20:,.0f} MiB) and its limit is {self.max_runs} runs / "
                f"{self.max_bytes / 2**20:,.0f} MiB. "
                + (
                    f"Reset one of your {mine} other runs (↺ Reset on its page), or try again "
                    if mine
                    else "Try again "
                )
                + "when other students' runs are reset or their tabs closed."
            )

    def add(self, owner: str, session_id: str | None, slug: str, run, nbytes: int) -> None:
        """Hold `run` for (owner, slug), replacing that owner's earlier run of the lesson. Check room first."""
        with self._lock:
            old = self._held.get((owner, slug))
            if old is not None and old.ref() is not run:
                self.on_drop(old.run_id)
            self._held[(owner, slug)] = _Held(owner, session_id, weakref.ref(run), run.run_id, nbytes)

    def update_bytes(self, owner: str, slug: str, nbytes: int) -> None:
        with self._lock:
            held = self._held.get((owner, slug))
            if held is not None:
                held.nbytes = nbytes

    def remove(self, owner: str, slug: str) -> None:
        with self._lock:
            held = self._held.pop((owner, slug), None)
            if held is not None:
                self.on_drop(held.run_id)

    def runs_of(self, owner: str) -> dict[str, object]:
        """{slug: run} of one session: a session sees only its own runs."""
        with self._lock:
            self._prune()
            return {s: h.ref() for (o, s), h in self._held.items() if o == owner}

    def totals(self) -> tuple[int, int]:
        """(runs held, bytes held) server-wide: counts only, nobody's runs."""
        with self._lock:
            self._prune()
            return len(self._held), self._total_bytes()

    def _fits(self, owner: str, slug: str, nbytes: int) -> bool:
        others = [h for key, h in self._held.items() if key != (owner, slug)]
        return len(others) < self.max_runs and sum(h.nbytes for h in others) + nbytes <= self.max_bytes

    def _total_bytes(self) -> int:
        return sum(h.nbytes for h in self._held.values())

    def _session_gone(self, session_id: str | None, now: float) -> bool:
        status = None if session_id is None else self.session_status(session_id)
        if status == "disconnected":
            since = self._disconnected_since.setdefault(session_id, now)
            return now - since > self.release_after_s
        self._disconnected_since.pop(session_id, None)
        return status == "gone"

    def _prune(self) -> None:
        """Drop runs that are garbage; release the runs of sessions gone or disconnected too long."""
        now, gone_by_session = self.clock(), {}
        for key, held in list(self._held.items()):
            run = held.ref()
            gone = run is None
            if not gone and held.session_id is not None:
                if held.session_id not in gone_by_session:
                    gone_by_session[held.session_id] = self._session_gone(held.session_id, now)
                gone = gone_by_session[held.session_id]
            if gone:
                del self._held[key]
                self.on_drop(held.run_id)
                if run is not None:  # unreachable by any tab: free its model now, not at the next GC
                    run.running = False
                    run.trainer = None
