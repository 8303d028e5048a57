"""Run `admint show IMAGE` on a pseudo-terminal that answers admint's graphics query
with REPLY (as a terminal would), and print what admint drew: sixel, half-blocks, or
neither. Used by tests/cli.rs (a terminal is needed; the test cannot be a pipe)."""
import os, pty, select, sys, time

binary, image, reply = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode("unicode_escape").encode("latin1")
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "show", image, "--width", "40"])
out, answered, end = b"", False, time.time() + 30
while time.time() < end:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if fd in ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not answered and b"\x1b[c" in out:
            os.write(fd, reply)
            answered = True
    elif os.waitpid(pid, os.WNOHANG)[0]:
        break
print("asked" if b"\x1b[c" in out else "not asked", "sixel" if b"\x1bP" in out else "no sixel", "halfblocks" if "▀".encode() in out or "▄".encode() in out else "no halfblocks")
