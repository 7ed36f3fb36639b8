"""Worker processes that die with their parent.

A ``ProcessPoolExecutor`` worker whose parent is killed (SIGKILL, OOM killer) is not told: it
stays alive, holding the caller's pipes, until it next talks to the dead parent - with a long
task, that can be many minutes. :func:`exit_with_parent` is a pool initializer that prevents
it in two ways:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks the kernel to kill the worker the moment
  the parent dies (``man 2 prctl``);
* everywhere, a daemon thread polls the parent's pid once every ``interval`` seconds and ends
  the process when it has gone (the worker is re-parented, so ``os.getppid()`` changes). On
  Linux the thread is named ``netsim-watch`` (``ps -T``), which shows that a worker is armed.

A worker is armed once its initializer has run, i.e. after it has imported netsim; a parent
killed while the workers are still starting leaves them to finish their imports and then exit
at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

__all__ = ["WATCH_THREAD", "exit_with_parent", "parent_alive"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PR_SET_NAME = 15
WATCH_THREAD = "netsim-watch"


def _prctl(option: int, arg) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _set_pdeathsig(sig: int) -> bool:
    """Ask the Linux kernel to send ``sig`` to this process when its parent dies."""
    return _prctl(_PR_SET_PDEATHSIG, int(sig))


def parent_alive(parent_pid: int) -> bool:
    """True while ``parent_pid`` is still this process's parent."""
    return os.getppid() == parent_pid


def _watch(parent_pid: int, interval: float) -> None:
    _prctl(_PR_SET_NAME, ctypes.c_char_p(WATCH_THREAD.encode()))  # this thread's name in ps -T
    stop = threading.Event()
    while not stop.wait(interval):
        if not parent_alive(parent_pid):
            os._exit(1)  # no cleanup: the results' owner is gone


def exit_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    """Pool initializer: end this worker when process ``parent_pid`` dies.

    Use as ``ProcessPoolExecutor(initializer=exit_with_parent, initargs=(os.getpid(),))``.
    If the parent is already gone when the worker starts, the worker exits at once.
    """
    if not parent_alive(parent_pid):
        os._exit(1)
    _set_pdeathsig(signal.SIGKILL)
    if not parent_alive(parent_pid):  # the parent died between the two checks
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent_pid, interval), name=WATCH_THREAD, daemon=True
    ).start()
