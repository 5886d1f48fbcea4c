#!/bin/bash
# The sequence behind the README's figures of 2026-12-04, evening (paths of that machine: /work/main
# the checkout, caches seeded by segments.py and import_seed.py beforehand, /work/ci-clone a
# clean clone of the same commit that CI built, holding the packaged app for startup.py).
# One benchmark at a time, nothing else running.
set -u
cd /work/main
R=/work/bench-results/$(date +%H%M)
mkdir -p $R
export QT_QPA_PLATFORM=offscreen
M=mysql+pymysql://root@127.0.0.1:3306/
run() { name=$1; shift; echo "$(date +%T) start $name load $(cut -d' ' -f1-3 /proc/loadavg)" >> $R/log; "$@" > $R/$name.json 2> $R/$name.err; echo "$(date +%T) end $name rc=$? load $(cut -d' ' -f1-3 /proc/loadavg)" >> $R/log; }
run seg-sqlite .venv/bin/python benchmarks/segments.py --runs 5 --json --cache /work/bench-cache-lead
run seg-maria .venv/bin/python benchmarks/segments.py --runs 5 --json --db ${M}segbench --cache /work/bench-cache-maria-lead
run delivery-sqlite .venv/bin/python benchmarks/delivery.py --recipients 100000 --repeats 3 --json
run delivery-maria .venv/bin/python benchmarks/delivery.py --recipients 100000 --repeats 3 --json --db $M
run memory .venv/bin/python benchmarks/gui.py --database /work/gui-1m.db --runs 3 --json
(cd /work/ci-clone && run startup .venv/bin/python benchmarks/startup.py --runs 9 --json)
run import-sqlite .venv/bin/python benchmarks/import_seed.py --customers 1000000 --repeats 3 --workdir /work/imp-1m --json
run import-maria .venv/bin/python benchmarks/import_seed.py --customers 1000000 --repeats 3 --workdir /work/imp-1m --mysql ${M}impbench --no-sqlite --json
# Two more MariaDB segment runs: its "not tagged newsletter" is the closest to its limit.
run seg-maria-rerun-1 .venv/bin/python benchmarks/segments.py --runs 5 --json --db ${M}segbench --cache /work/bench-cache-maria-lead
run seg-maria-rerun-2 .venv/bin/python benchmarks/segments.py --runs 5 --json --db ${M}segbench --cache /work/bench-cache-maria-lead
echo "$(date +%T) all done" >> $R/log
# Afterwards (19:40, once CI had passed on 052e64f), the MariaDB import once more, with
# import_seed.py putting MariaDB's figures at the top level under --no-sqlite (the
# sequence's import-maria.json holds them only under `mysql.fresh`), into
# import-maria-rerun.json:
#   .venv/bin/python benchmarks/import_seed.py --customers 1000000 --repeats 3 \
#     --workdir /work/imp-1m --mysql ${M}impbench --no-sqlite --json
