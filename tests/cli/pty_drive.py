#!/usr/bin/env python3
"""pty_drive.py: run a command on a pseudo-terminal, as a person at a
terminal would, for the tests of what loramake does only on a tty (the
status line, Ctrl-C's question).

usage: pty_drive.py LOG TIMEOUT [EXPECT SEND]... -- CMD [ARG]...

Everything the command writes is copied to LOG. Each EXPECT is a Python
regular expression waited for in the output after the previous match;
SEND is then typed: "^C" is Ctrl-C (the terminal turns it into SIGINT
for the command, as a keyboard's does), "" types nothing, anything else
is typed followed by Enter. Exits with the command's status (128 + N
after signal N), or 124 when TIMEOUT seconds pass or the output ends
before an EXPECT matched (LOG then says which).
"""
import os
import pty
import re
import select
import sys
import time


def main(argv):
    try:
        cut = argv.index("--")
    except ValueError:
        sys.exit(__doc__)
    log_path, timeout = argv[1], float(argv[2])
    steps = argv[3:cut]
    cmd = argv[cut + 1:]
    if len(steps) % 2 or not cmd:
        sys.exit(__doc__)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    deadline = time.monotonic() + timeout
    seen, start = "", 0
    pairs = [(re.compile(steps[i]), steps[i + 1]) for i in range(0, len(steps), 2)]
    with open(log_path, "wb") as log:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                log.write(b"\n[pty_drive: timed out waiting for %r]\n" %
                          (pairs[0][0].pattern.encode() if pairs else b"the end"))
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return 124
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the command closed the terminal
                    data = b""
                if not data:
                    break
                log.write(data)
                log.flush()
                seen += data.decode("utf-8", "replace")
            while pairs:
                m = pairs[0][0].search(seen, start)
                if not m:
                    break
                start = m.end()
                send = pairs.pop(0)[1]
                if send == "^C":
                    os.write(fd, b"\x03")
                elif send:
                    os.write(fd, send.encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        if pairs:
            log.write(b"\n[pty_drive: the output ended before %r]\n" %
                      pairs[0][0].pattern.encode())
            return 124
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
