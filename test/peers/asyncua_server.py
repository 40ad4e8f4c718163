"""An OPC UA server nobody in this project wrote (FreeOpcUa's asyncua), for interop tests.

Address space (namespace urn:gridstream:test:asyncua):
  Objects/Plant/Battery01/{SOC Double, Voltage Double, Current Float, Cycles UInt32, Energy Int64, Fault Boolean}
  Objects/Plant/Inverter01/{Power Double, Temperature Double, Running Boolean}

Every variable starts at 0/false with the source timestamp given by --initial-ts. The test then drives the
server through stdin, one JSON object per line, and the server answers each line on stdout:
  {"path": "Battery01/SOC", "value": 55.5, "source": "2024-03-01T00:00:01.250Z" (or null: none),
   "server": "...optional, default = source...", "status": "Good|BadSensorFailure|UncertainLastUsableValue|..."}
  -> "OK <n>"  (or "ERR <message>")
"READY <port>" is printed once the server accepts connections. EOF on stdin stops the server.

Usage: python asyncua_server.py --port 4841 [--initial-ts 2024-03-01T00:00:00.000Z]
"""

import argparse
import asyncio
import json
import sys
from datetime import datetime, timezone

from asyncua import Server, ua

NAMESPACE = "urn:gridstream:test:asyncua"

VARIABLES = {
    "Battery01": [
        ("SOC", ua.VariantType.Double),
        ("Voltage", ua.VariantType.Double),
        ("Current", ua.VariantType.Float),
        ("Cycles", ua.VariantType.UInt32),
        ("Energy", ua.VariantType.Int64),
        ("Fault", ua.VariantType.Boolean),
    ],
    "Inverter01": [
        ("Power", ua.VariantType.Double),
        ("Temperature", ua.VariantType.Double),
        ("Running", ua.VariantType.Boolean),
    ],
}


def parse_ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def zero(vtype):
    return False if vtype == ua.VariantType.Boolean else (0.0 if vtype in (ua.VariantType.Double, ua.VariantType.Float) else 0)


def data_value(vtype, value, source, server=None, status="Good"):
    if value is not None and vtype != ua.VariantType.Boolean and vtype not in (ua.VariantType.Double, ua.VariantType.Float):
        value = int(value)
    variant = ua.Variant(value, vtype) if value is not None else ua.Variant()
    return ua.DataValue(
        Value=variant,
        StatusCode=ua.StatusCode(getattr(ua.StatusCodes, status)),
        SourceTimestamp=source,
        ServerTimestamp=server if server is not None else source,
    )


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--initial-ts", default="2024-03-01T00:00:00.000Z")
    args = parser.parse_args()

    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{args.port}/gridstream-test")
    server.set_server_name("gridstream asyncua interop peer")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    # asyncua stamps every write with its own clock as the server timestamp by default; the test gives
    # both timestamps so it can check which one the collector used.
    server.set_force_server_timestamp(False)
    idx = await server.register_namespace(NAMESPACE)

    plant = await server.nodes.objects.add_object(idx, "Plant")
    nodes = {}
    initial = parse_ts(args.initial_ts)
    for device, variables in VARIABLES.items():
        obj = await plant.add_object(idx, device)
        for name, vtype in variables:
            node = await obj.add_variable(idx, name, ua.Variant(zero(vtype), vtype))
            await node.write_value(data_value(vtype, zero(vtype), initial))
            nodes[f"{device}/{name}"] = (node, vtype)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async with server:
        print(f"READY {args.port}", flush=True)
        count = 0
        while True:
            line = await reader.readline()
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
                node, vtype = nodes[cmd["path"]]
                server_ts = parse_ts(cmd["server"]) if cmd.get("server") else None
                source_ts = parse_ts(cmd["source"]) if cmd.get("source") else None
                await node.write_value(data_value(vtype, cmd.get("value"), source_ts, server_ts, cmd.get("status", "Good")))
                count += 1
                print(f"OK {count}", flush=True)
            except Exception as error:  # a bad command must not kill the peer mid-test
                print(f"ERR {error!r}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
