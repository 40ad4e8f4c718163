# gridstream — one entry point for running, testing and measuring the pipeline.
# `make demo` runs everything on its defaults; `make test` is what CI runs (via .ci/run).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# A supported Node (>= 22): the machine's if it is new enough, otherwise one from npm in .local/node.
NODE_BIN := $(shell deploy/local/node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

LOCAL := .local

.PHONY: help install build lint typecheck test test-unit test-int infra infra-test infra-down topic connector parser writer archiver \
        simulation demo demo-stop bench soak soak-short fuzz up down clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

# `npm ci`: exactly the lock file, never a rewrite of it; a package.json changed without its lock stops here
# with npm's message (run `npm install` once to update the lock, and commit both).
node_modules/.installed: package.json package-lock.json $(wildcard packages/*/package.json services/*/package.json bench/package.json soak/package.json)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: node_modules/.installed ## install npm dependencies

build: install ## compile every package and service (tsc -b)
	npx tsc -b

lint: install ## biome: lint and format check
	npx biome check .

infra: ## install (if missing) and start Kafka, RabbitMQ and InfluxDB on loopback
	deploy/local/infra.sh up

infra-down: ## stop the local infrastructure and the demo's MQTT broker (by pid)
	deploy/local/infra.sh down

topic: build ## create telemetry.raw/parsed/dlq/alarms/alarm-actions/forecasts (KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR)
	node packages/cli/dist/main.js topics create

connector: build ## declare the RabbitMQ exchange/queue/binding and run the bridge (foreground)
	node services/bridge/dist/main.js

parser: build ## build and run the parser (foreground)
	node services/parser/dist/main.js

writer: build ## build and run the InfluxDB writer (foreground)
	node services/influx-writer/dist/main.js

archiver: build ## build and run the Parquet archiver (foreground; .local/archive unless ARCHIVE_S3_BUCKET is set)
	node services/archiver/dist/main.js

# All three simulators: the microgrid gateway (AMQP), the ESS over Modbus TCP (:5020), the microgrid
# controller over OPC UA (:4840).
SIMULATORS := SIM_MODBUS_PORT=$${SIM_MODBUS_PORT:-5020} SIM_OPCUA_PORT=$${SIM_OPCUA_PORT:-4840}

simulation: build ## run every simulator: gateway → RabbitMQ (SIM_RATE/s), ESS Modbus TCP :5020, OPC UA :4840
	$(SIMULATORS) node services/simulator/dist/main.js

# The demo's gateway sites are in Korea, like the reference gateway: their wall-clock timestamps are KST.
# The archive goes to .local/archive (no bucket configured); query it with `gridstream query`.
# The parser checks quality and the ESS protection alarms; the ESS simulator overheats rack 1 every 10 min
# (one alarm episode: warning, fault, back to warning, cleared). Services push their metrics to InfluxDB
# (gridstream_metrics) for the pipeline-health dashboard. The console is on http://127.0.0.1:8080.
# Two more kinds of device: the simulator's MQTT devices (JSON meters, a Sparkplug B edge node) publish to a
# Mosquitto broker on 127.0.0.1:1883 (deploy/local/mosquitto.sh; it keeps running like the infrastructure),
# and its water meters print lines on one end of a socat pty pair (deploy/local/serial-line.sh) whose other
# end the serial collector reads (.local/serial/meter: the default GRIDSTREAM_HOME).
demo: infra build topic ## everything on its defaults: infra, topics, all services and simulators; live counts (archive files every 30 s, so queries answer at once)
	deploy/local/mosquitto.sh start
	deploy/local/serial-line.sh start
	$(SIMULATORS) PARSER_DEFAULT_TIMEZONE=$${PARSER_DEFAULT_TIMEZONE:-Asia/Seoul} \
	  MODBUS_CONFIG=$${MODBUS_CONFIG:-sample/modbus/collector-local.yaml} \
	  OPCUA_CONFIG=$${OPCUA_CONFIG:-sample/opcua/collector-local.yaml} \
	  SIM_MQTT_URL=$${SIM_MQTT_URL:-mqtt://127.0.0.1:1883} \
	  MQTT_CONFIG=$${MQTT_CONFIG:-sample/mqtt/collector-local.yaml} \
	  SIM_SERIAL_PATH=$${SIM_SERIAL_PATH:-.local/serial/meter-sim} \
	  SERIAL_CONFIG=$${SERIAL_CONFIG:-sample/serial/collector-demo.yaml} \
	  QUALITY_CONFIG=$${QUALITY_CONFIG:-sample/quality/ess-protection.yaml} \
	  SIM_MODBUS_SCENARIO=$${SIM_MODBUS_SCENARIO:-over-temperature} \
	  METRICS_INFLUX_URL=$${METRICS_INFLUX_URL:-http://127.0.0.1:8086} \
	  ARCHIVE_MAX_FILE_AGE_MS=$${ARCHIVE_MAX_FILE_AGE_MS:-30000} \
	  FORECAST_CONFIG=$${FORECAST_CONFIG:-sample/forecast/demo.yaml} \
	  deploy/local/services.sh start
	deploy/local/demo-watch.sh

demo-stop: ## stop the demo's services and its serial pty pair (infrastructure and the MQTT broker keep running; make infra-down stops them)
	deploy/local/services.sh stop
	deploy/local/serial-line.sh stop

infra-test: ## infra plus what only the tests need (InfluxDB 1.8 for the 2.x write API)
	deploy/local/infra.sh up test

typecheck: install ## type-check the test files (the build checks everything else)
	npx tsc -p tsconfig.test.json

test: infra-test build ## lint, type-check the tests, then the whole suite against the real servers (what CI runs)
	npx biome check .
	npx tsc -p tsconfig.test.json
	npx vitest run

test-unit: build ## unit tests only (no servers needed; the CLI's are run through its built bin)
	npx vitest run --project unit

test-int: infra-test build ## integration tests only
	npx vitest run --project integration

# The archive's SQL on Athena engine v3's engine: Trino 476 (deploy/local/trino.sh; the test starts and stops
# it) reads the Glue table and the Parquet files from moto, and every docs/queries/*.sql must return row for
# row what DuckDB returns (docs/archive.md, "Checked on Athena's engine"). `make test` runs it too.
.PHONY: test-athena
test-athena: infra-test install ## docs/queries on Trino (Athena's engine) and on DuckDB, compared row for row
	npx vitest run --project integration test/athena-engine.int.test.ts

# The pipeline steps write bench/results/latest.md; the collectors', the archive's and the file import's
# measurements append their sections (the archive one needs the moto server, hence infra-test).
bench: infra-test build ## measure throughput, latency and memory; writes bench/results/latest.md
	deploy/local/telegraf.sh install || echo "bench: no Telegraf build; its row will say so" >&2
	node bench/dist/run-all.js
	node services/modbus-collector/dist/bench/modbus-bench.js | tee -a bench/results/latest.md
	{ echo '## OPC UA'; echo; echo '```json'; node services/opcua-collector/bench/opcua-items.ts --devices 1000 --points 10 --seconds 30; echo '```'; } | tee -a bench/results/latest.md
	node services/archiver/dist/bench/archive-bench.js | tee -a bench/results/latest.md
	node bench/dist/import-bench.js | tee -a bench/results/latest.md
	{ echo '## PostgreSQL writer (rows/s vs raw COPY)'; echo; echo '```'; node services/timescale-writer/dist/bench/pg-bench.js --rows 360000 --runs 3; echo '```'; } | tee -a bench/results/latest.md
	VM_INSTANCE=bench VM_HTTP_PORT=28428 VM_OPENTSDB_PORT=24242 deploy/local/victoriametrics.sh start
	VM_INSTANCE=bench VM_HTTP_PORT=28428 VM_OPENTSDB_PORT=24242 deploy/local/victoriametrics.sh wait
	{ echo '## OpenTSDB writer (datapoints/s vs raw POST)'; echo; echo '```'; node services/opentsdb-writer/bench/put-bench.ts --rounds 3; echo '```'; } | tee -a bench/results/latest.md; \
	  rc=$$?; VM_INSTANCE=bench deploy/local/victoriametrics.sh stop; exit $$rc

# The soak brings up servers of its own (a 3-broker Kafka cluster, RabbitMQ, InfluxDB, moto on other ports;
# deploy/local/kafka-cluster.sh and the *_INSTANCE=soak variants) beside anything already running.
soak: infra-test build ## the full soak: every fault together, 100,000+ messages, exact verdict (docs/reliability.md)
	node soak/dist/main.js --profile full

soak-short: infra-test build ## the short soak that make test runs: every fault once
	node soak/dist/main.js --profile short

fuzz: install ## property-based fuzzing of the parser's raw decoding: 1,200,000 inputs (FUZZ_RUNS to change)
	FUZZ_RUNS=$${FUZZ_RUNS:-1200000} npx vitest run --project unit packages/parsing/src/parse-raw.fuzz.test.ts

up: ## docker compose: the whole stack where a Docker engine exists
	docker compose up -d --wait

down: ## docker compose: stop it
	docker compose down

clean: ## remove build output (not .local)
	npx tsc -b --clean
