# tcpProbeMany (boot.ts), run by python3 -c in a network namespace: ADDR SOURCE TIMEOUT PORT... (SOURCE
# may be empty). Prints a JSON object, port -> "open ...", "refused", "timeout" or "error ...".
import json, socket, sys, threading
addr, source, timeout, ports = sys.argv[1], sys.argv[2], float(sys.argv[3]), [int(p) for p in sys.argv[4:]]
out = {}
def probe(port):
    try:
        s = socket.create_connection((addr, port), timeout, source_address=(source, 0) if source else None)
        s.settimeout(1)
        try:
            data = s.recv(64)
        except OSError:
            data = b""
        out[port] = "open " + data.decode(errors="replace").strip()
        s.close()
    except ConnectionRefusedError:
        out[port] = "refused"
    except (TimeoutError, socket.timeout):
        out[port] = "timeout"
    except OSError as e:
        out[port] = "error " + str(e)
threads = [threading.Thread(target=probe, args=(p,)) for p in ports]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out))
