#!/usr/bin/python3
"""A Modbus slave that nobody on this project wrote: pymodbus (Debian python3-pymodbus 3.0.x).

The interop tests start it with a JSON spec of the registers it must hold, read it with the collector and
compare what reaches Kafka with values written down by hand. Because the encoder is pymodbus's own
(register words in, Modbus frames out), a word-order or sign bug on our side cannot cancel itself out.

Usage: pymodbus_server.py SPEC.json
  SPEC = {
    "tcp": {"host": "127.0.0.1", "port": 0, "framer": "socket"}   # port 0: the OS picks one;
                                                     # framer "rtu": RTU frames over TCP (a serial gateway)
       or "serial": {"port": "/dev/pts/7", "baudrate": 19200, "parity": "N", "bytesize": 8, "stopbits": 1},
    "units": {"1": {"input": {"0": 655, "3": 65436}, "holding": {...}, "coils": {...}, "discrete": {...}}}
  }
Register maps are {address: 16-bit word}; bit maps are {address: 0|1}. Unset addresses read as 0.
Prints one line `LISTENING tcp <port>` or `LISTENING serial <path>` on stdout once it answers requests,
then serves until SIGTERM/SIGINT.

Run it with Debian's interpreter (/usr/bin/python3): a pyenv python3 earlier on PATH does not see
Debian's dist-packages. deploy/local/pymodbus.sh installs the packages.
"""

import asyncio
import json
import logging
import signal
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer

SPACE = 65536


def block(values_by_address):
    """A full 64 Ki data block holding the given words/bits at their Modbus protocol addresses.

    pymodbus's 1-based quirk: with the default zero_mode=False, ModbusSlaveContext adds 1 to every
    request address before it looks into the block, so `ModbusSequentialDataBlock(0, values)` answers a
    read of address N with values[N + 1]. Starting the block at address 1 instead makes a read of
    protocol address N return values[N], i.e. exactly what the spec lists for N. (Getting this wrong
    shifts every register by one, which a test with distinct values per address would catch.)
    """
    values = [0] * SPACE
    for address, value in values_by_address.items():
        a = int(address)
        if not 0 <= a < SPACE:
            raise ValueError(f"address {a} outside 0..65535")
        v = int(value)
        if not 0 <= v <= 0xFFFF:
            raise ValueError(f"address {a}: {v} is not a 16-bit register word (encode negatives as 65536 + v)")
        values[a] = v
    return ModbusSequentialDataBlock(1, values)


def slave_context(unit_spec):
    return ModbusSlaveContext(
        ir=block(unit_spec.get("input", {})),
        hr=block(unit_spec.get("holding", {})),
        co=block(unit_spec.get("coils", {})),
        di=block(unit_spec.get("discrete", {})),
        zero_mode=False,  # the default, stated so the block() comment above stays true
    )


async def main(spec):
    units = {int(unit): slave_context(u) for unit, u in spec["units"].items()}
    # single=False: a request for a unit id that is not listed gets no answer (ignore_missing_slaves)
    # instead of every unit id sharing one context, which is what a real multi-drop bus looks like.
    context = ModbusServerContext(slaves=units, single=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    if "tcp" in spec:
        tcp = spec["tcp"]
        framer = ModbusRtuFramer if tcp.get("framer") == "rtu" else ModbusSocketFramer
        server = ModbusTcpServer(
            context,
            framer,
            address=(tcp.get("host", "127.0.0.1"), int(tcp.get("port", 0))),
            allow_reuse_address=True,
            ignore_missing_slaves=True,
        )
        task = asyncio.create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
        print(f"LISTENING tcp {port}", flush=True)
    else:
        serial = spec["serial"]
        server = ModbusSerialServer(
            context,
            ModbusRtuFramer,
            port=serial["port"],
            baudrate=int(serial.get("baudrate", 9600)),
            parity=serial.get("parity", "N"),
            bytesize=int(serial.get("bytesize", 8)),
            stopbits=int(serial.get("stopbits", 1)),
            ignore_missing_slaves=True,
        )
        await server.start()
        # pymodbus 3.0 logs a failed open at debug level and carries on without a port: a test would then
        # see only timeouts. Fail loudly instead (e.g. parity on a Linux pty: tcsetattr refuses PARENB).
        if server.transport is None:
            raise SystemExit(f"could not open serial port {serial['port']} with {serial}")
        task = asyncio.create_task(server.serve_forever())
        print(f"LISTENING serial {serial['port']}", flush=True)

    await stop.wait()
    await server.shutdown()
    task.cancel()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with open(sys.argv[1], encoding="utf-8") as f:
        asyncio.run(main(json.load(f)))
