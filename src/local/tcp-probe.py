# tcpProbe (boot.ts), run by python3 -c in a network namespace: ADDR PORT SOURCE TIMEOUT (SOURCE may be
# empty). Prints "open <first bytes the server sent>", "refused", "timeout" or "error <why>".
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[4]), source_address=(sys.argv[3], 0) if sys.argv[3] else None)
    s.settimeout(1)
    try:
        data = s.recv(64)
    except OSError:
        data = b""
    print("open " + data.decode(errors="replace").strip())
except ConnectionRefusedError:
    print("refused")
except (TimeoutError, socket.timeout):
    print("timeout")
except OSError as e:
    print("error " + str(e))
