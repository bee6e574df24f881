"""Drives a command through a pseudo-terminal from a JSON script (argv[1]):
[["expect", "regex"], ["send", "line"], ["eof"]]. Matching is done on the
output with ANSI escapes removed. Prints {"exit", "output", "failed"} as JSON."""
import json, os, pty, re, select, sys, time

script = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["COLUMNS"] = "120"
    os.execvp(argv[0], argv)

raw = b""
ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
def text():
    return ansi.sub("", raw.decode("utf8", "replace"))

def pump(timeout):
    global raw
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    raw += data
    return True

failed = None
pos = 0
for step in script:
    if step[0] == "expect":
        pat = re.compile(step[1])
        deadline = time.time() + (step[2] if len(step) > 2 else 60)
        while True:
            m = pat.search(text(), pos)
            if m:
                pos = m.end()
                break
            if time.time() > deadline or not pump(0.2):
                failed = "timed out waiting for %r" % step[1]
                break
        if failed:
            break
    elif step[0] == "send":
        time.sleep(0.2)
        os.write(fd, step[1].encode() + b"\r")
    elif step[0] == "eof":
        os.write(fd, b"\x04")

deadline = time.time() + 15
status = None
while time.time() < deadline:
    pump(0.1)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    os.kill(pid, 9)
    _, st = os.waitpid(pid, 0)
    status = "killed"
while pump(0.05):
    if not select.select([fd], [], [], 0)[0]:
        break
print(json.dumps({"exit": status, "output": text(), "failed": failed}))
