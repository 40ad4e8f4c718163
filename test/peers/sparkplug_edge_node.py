"""An independent Sparkplug B edge node for the MQTT collector's interop test, built on pysparkplug
(PyPI; deploy/local/mosquitto.sh installs it): its protobuf encoding, topics and payload classes, with the
node's behaviour written out here so the test controls it exactly.

- On connect: NBIRTH (seq 0, bdSeq, the node's metrics with aliases) and a DBIRTH (next seq) per device;
  the will is an NDEATH with the same bdSeq.
- DDATA carry metrics by alias only, without datatypes (the birth has them), seq incremented per message
  and wrapping at 255.
- An NCMD `Node Control/Rebirth` = true is answered with NBIRTH + DBIRTHs (seq from 0 again, same bdSeq).

Driven by JSON lines on stdin; reports JSON lines on stdout:
  {"cmd": "data", "device": "inv1", "values": {"AC/Power": 231.5}, "timestamp": 1767225600000}
  {"cmd": "skip"}            use up one sequence number without publishing (a lost message)
  {"cmd": "ddeath", "device": "inv1"}
  {"cmd": "stop"}            NDEATH, then a clean disconnect
Events: {"event": "born", "bdSeq": 0}, {"event": "published", "type": "DDATA", "seq": 3},
        {"event": "rebirth-request"}.
Usage: python sparkplug_edge_node.py --port P --group G --node N [--device inv1 ...] [--qos 0|1]
"""

import argparse
import json
import sys
import threading
import time

import pysparkplug as spb

NODE_METRICS = [
    ("Uptime", spb.DataType.UINT32, 1, 42),
    ("Firmware", spb.DataType.STRING, 2, "1.2.3"),
]
DEVICE_METRICS = [
    ("AC/Power", spb.DataType.FLOAT, 10, 230.5),
    ("Temp", spb.DataType.INT16, 11, -12),
    ("Running", spb.DataType.BOOLEAN, 12, True),
    ("Energy", spb.DataType.UINT64, 13, 123456789012),
    ("Serial", spb.DataType.STRING, 14, "SN-0001"),
]


def say(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class EdgeNode:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seq = 0
        self.bd_seq = args.bd_seq
        self.devices = {d: {name: value for name, _, _, value in DEVICE_METRICS} for d in args.device}
        self.types = {name: (dtype, alias) for name, dtype, alias, _ in DEVICE_METRICS}
        self.client = spb.Client(client_id=args.client_id)
        self.qos = spb.QoS(args.qos)

    def topic(self, kind, device=None):
        return spb.Topic(
            message_type=kind, group_id=self.args.group, edge_node_id=self.args.node, device_id=device
        )

    def next_seq(self):
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    def bd_seq_metric(self):
        return spb.Metric(timestamp=spb.get_current_timestamp(), name="bdSeq", datatype=spb.DataType.INT64,
                          value=self.bd_seq)

    def publish(self, kind, payload, device=None, include_dtypes=False):
        self.client.publish(
            spb.Message(topic=self.topic(kind, device), payload=payload, qos=self.qos, retain=False),
            include_dtypes=include_dtypes,
        )

    def births(self):
        with self.lock:
            self.seq = 0
            now = spb.get_current_timestamp()
            node_metrics = [
                spb.Metric(timestamp=now, name=name, datatype=dtype, value=value, alias=alias)
                for name, dtype, alias, value in NODE_METRICS
            ] + [
                self.bd_seq_metric(),
                spb.Metric(timestamp=now, name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=False),
            ]
            self.publish(spb.MessageType.NBIRTH, spb.NBirth(timestamp=now, seq=self.next_seq(), metrics=node_metrics))
            for device, values in self.devices.items():
                metrics = [
                    spb.Metric(timestamp=now, name=name, datatype=dtype, value=values[name], alias=alias)
                    for name, (dtype, alias) in self.types.items()
                ]
                self.publish(spb.MessageType.DBIRTH, spb.DBirth(timestamp=now, seq=self.next_seq(), metrics=metrics),
                             device=device)
            say(event="born", bdSeq=self.bd_seq, devices=list(self.devices))

    def on_ncmd(self, _client, message):
        for metric in message.payload.metrics:
            if metric.name == "Node Control/Rebirth" and metric.value is True:
                say(event="rebirth-request")
                self.births()

    def connect(self):
        self.client.set_will(
            spb.Message(
                topic=self.topic(spb.MessageType.NDEATH),
                payload=spb.NDeath(timestamp=spb.get_current_timestamp(), bd_seq_metric=self.bd_seq_metric()),
                qos=spb.QoS.AT_LEAST_ONCE,
                retain=False,
            )
        )
        self.client.subscribe(self.topic(spb.MessageType.NCMD), spb.QoS.AT_LEAST_ONCE, self.on_ncmd)
        connected = threading.Event()
        self.client.connect("127.0.0.1", port=self.args.port, blocking=False,
                            callback=lambda _c: connected.set())
        if not connected.wait(15):
            say(event="error", message="no CONNACK in 15 s")
            sys.exit(1)
        # The subscription is made in the connect callback: give the broker its SUBACK before birth, so a
        # rebirth request in answer to the birth is not missed.
        time.sleep(0.3)
        self.births()

    def data(self, device, values, timestamp):
        with self.lock:
            metrics = []
            for name, value in values.items():
                dtype, alias = self.types[name]
                self.devices[device][name] = value
                metrics.append(spb.Metric(timestamp=timestamp, name=None, datatype=dtype, value=value, alias=alias))
            seq = self.next_seq()
            self.publish(spb.MessageType.DDATA, spb.DData(timestamp=timestamp, seq=seq, metrics=metrics), device=device)
            say(event="published", type="DDATA", seq=seq)

    def run(self):
        self.connect()
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd["cmd"] == "data":
                self.data(cmd["device"], cmd["values"], cmd.get("timestamp", spb.get_current_timestamp()))
            elif cmd["cmd"] == "skip":
                with self.lock:
                    say(event="skipped", seq=self.next_seq())
            elif cmd["cmd"] == "ddeath":
                with self.lock:
                    seq = self.next_seq()
                    self.publish(spb.MessageType.DDEATH,
                                 spb.DDeath(timestamp=cmd.get("timestamp", spb.get_current_timestamp()), seq=seq),
                                 device=cmd["device"])
                    del self.devices[cmd["device"]]
                    say(event="published", type="DDEATH", seq=seq)
            elif cmd["cmd"] == "stop":
                self.publish(spb.MessageType.NDEATH,
                             spb.NDeath(timestamp=spb.get_current_timestamp(), bd_seq_metric=self.bd_seq_metric()))
                time.sleep(0.2)
                self.client.disconnect()
                say(event="stopped")
                return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--device", action="append", default=[])
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--qos", type=int, default=0, choices=[0, 1])
    parser.add_argument("--bd-seq", type=int, default=0)
    args = parser.parse_args()
    if args.client_id is None:
        args.client_id = f"edge-{args.group}-{args.node}"
    EdgeNode(args).run()


if __name__ == "__main__":
    main()
