#!/usr/bin/python3
"""A meter printing ASCII lines on a serial port, driven by a test (the serial collector's protocol peer).

Runs under Debian's /usr/bin/python3 with python3-serial (pyserial), as the water-meter project read its RS485
meters with pyserial. Commands come on stdin, one JSON object per line; each is answered on stdout with one
line, so the test knows the bytes are written before it goes on:

  {"cmd": "open", "port": "p1", "path": "/tmp/x/ttyB", "baud": 9600}   -> OPEN
  {"cmd": "write", "port": "p1", "text": "1,2.5\\r\\n"}                 -> WROTE <bytes>
  {"cmd": "write", "port": "p1", "hex": "31ff0d0a"}                     -> WROTE <bytes>   (not text)
  {"cmd": "close", "port": "p1"}                                        -> CLOSED
`port` names one of several ports the peer drives at once (default "default").
A failure (the port vanished: EIO once socat is gone) answers ERROR <message> and the peer stays up.
"""
import json
import sys

import serial


def main() -> None:
    ports: dict = {}
    for raw in sys.stdin:
        raw = raw.strip()
        if not raw:
            continue
        try:
            cmd = json.loads(raw)
            kind = cmd["cmd"]
            name = cmd.get("port", "default")
            port = ports.get(name)
            if kind == "open":
                if port is not None:
                    try:
                        port.close()
                    except Exception:  # noqa: BLE001 - the old pty may be gone already
                        pass
                ports[name] = serial.Serial(
                    cmd["path"],
                    baudrate=cmd.get("baud", 9600),
                    bytesize=serial.EIGHTBITS,
                    parity=serial.PARITY_NONE,
                    stopbits=serial.STOPBITS_ONE,
                    timeout=1,
                    write_timeout=5,
                )
                print("OPEN", flush=True)
            elif kind == "write":
                data = bytes.fromhex(cmd["hex"]) if "hex" in cmd else cmd["text"].encode("utf-8")
                n = port.write(data)
                port.flush()
                print(f"WROTE {n}", flush=True)
            elif kind == "close":
                if port is not None:
                    ports.pop(name)
                    port.close()
                print("CLOSED", flush=True)
            else:
                print(f"ERROR unknown command {kind}", flush=True)
        except Exception as error:  # noqa: BLE001 - reported to the test, which decides
            print(f"ERROR {type(error).__name__}: {error}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
