#!/usr/bin/python3
"""The operators' kit in docker/, checked without a Docker engine.

Static: the Dockerfile (its build stage re-run from only the files it
COPYs, the runtime packages covering the binary's shared libraries and the
HEALTHCHECK's tool, a non-root USER, setcap after the binary is copied, the
ports), the entry point, docker/compose.yaml (services, images, ports,
addresses, every chaindns flag known to --help, mounts that exist and agree
with the Grafana provisioning), `promtool check config` on
docker/prometheus.yml, the Grafana provisioning and the dashboard (every
metric, label and label value its PromQL names is exported by a running
resolver).

Live: the compose topology as processes on loopback: one redis-server with
the compose Redis settings, two resolvers started through the image's entry
point with the compose command lines (Redis address mapped), and a real
Prometheus whose configuration is docker/prometheus.yml with the targets
replaced. A CNAME chain resolved through instance A, then through B (from
Redis); Prometheus then answers the dashboard's expressions: chain length per
instance, hops and answers by source (network on A, redis on B), Redis hits,
slowest zones; and every panel's expression evaluates, non-empty."""

import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import yaml  # noqa: E402  Debian's python3-yaml

import harness  # noqa: E402
from harness import (REPO, IntegrationTest, RedisServer, _live, _terminate, main,  # noqa: E402
                     metric, parse_metrics, redis_addr, resolver_addr, resolver_bin,
                     wait_for)

BASE = 30
DOCKER = os.path.join(REPO, "docker")
DOCKERFILE = os.path.join(DOCKER, "Dockerfile")
COMPOSE = os.path.join(DOCKER, "compose.yaml")
PROM_CONFIG = os.path.join(DOCKER, "prometheus.yml")
ENTRYPOINT = os.path.join(DOCKER, "entrypoint.sh")
CONTAINER_YAML = os.path.join(DOCKER, "container.yaml")
GRAFANA = os.path.join(DOCKER, "grafana")
DASHBOARD = os.path.join(GRAFANA, "dashboards", "chaindns.json")

# Where the image puts things (the entry point names them; the Dockerfile
# copies them there).
IMAGE_BIN = "/usr/local/bin/chaindns"
IMAGE_DEFAULTS = "/usr/local/share/chaindns/container.yaml"
IMAGE_CONFIG = "/etc/chaindns/chaindns.yaml"
IMAGE_ENTRYPOINT = "/usr/local/bin/chaindns-entrypoint"

CHAINDNS_SERVICES = ("chaindns-1", "chaindns-2")
CHAIN = ["a.chain.com.", "b.mid.net.", "c.end.org.", "d.final.com."]
PROM_LISTEN = "%s:9090" % redis_addr(BASE, 9)
# Grafana's variables, as Grafana would expand them with a 15 s scrape
# interval ($__rate_interval = 4 x 15 s) and "All" instances.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "5m", "$instance": ".*"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "offset", "and", "or", "unless", "inf", "nan"}
PROMETHEUS_METRICS = {"up"}  # made by Prometheus itself, not by chaindns


# ---------------------------------------------------------------------------
# small parsers
# ---------------------------------------------------------------------------

def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def dockerfile_stages(path=DOCKERFILE):
    """[{'from': ..., 'name': ..., 'ins': [(KEYWORD, args)]}], continuation
    lines joined, comments dropped."""
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    stages = []
    for line in text.splitlines():
        if not line.strip():
            continue
        kw, _, args = line.strip().partition(" ")
        kw, args = kw.upper(), " ".join(args.split())
        if kw == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", args, re.I)
            stages.append({"from": m.group(1), "name": m.group(2), "ins": []})
        else:
            stages[-1]["ins"].append((kw, args))
    return stages


def apt_packages(run_args):
    """Packages named by the `apt-get install` in one RUN."""
    m = re.search(r"apt-get install (.*?)(?:&&|$)", run_args)
    return [t for t in m.group(1).split() if not t.startswith("-")] if m else []


def help_flags():
    p = subprocess.run([resolver_bin(), "--help"], capture_output=True, text=True, timeout=10)
    return set(re.findall(r"--[a-z0-9][a-z0-9-]*", p.stdout))


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def promql_metric_names(expr):
    """Metric names a PromQL expression selects: identifiers left once
    strings, label matchers, ranges and grouping clauses are gone, that are
    neither functions/aggregations (followed by '(') nor keywords."""
    e = strip_strings(expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if m.group(0).lower() in PROMQL_WORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(m.group(0))
    return names


def promql_selectors(expr):
    """[(metric, [(label, op, value)])] for every name{...} selector."""
    out = []
    selector = r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{((?:[^}\"]|\"(?:[^\"\\]|\\.)*\")*)\}"
    for m in re.finditer(selector, expr):
        matchers = re.findall(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', m.group(2))
        out.append((m.group(1), matchers))
    return out


def promql_grouping_labels(expr):
    labels = set()
    for m in re.finditer(r"\b(?:by|without)\s*\(([^)]*)\)", strip_strings(expr)):
        labels |= {l.strip() for l in m.group(1).split(",") if l.strip()}
    return labels


def expand(expr, **override):
    v = dict(GRAFANA_VARS, **override)
    for k in sorted(v, key=len, reverse=True):
        expr = expr.replace(k, v[k])
    return expr


def dashboard_targets(dash):
    """[(panel title, target)] of every panel, rows' nested panels included."""
    out = []
    for p in dash["panels"]:
        for q in [p] + list(p.get("panels", [])):
            for t in q.get("targets", []):
                out.append((q["title"], t))
    return out


def exposition_index(text):
    """From /metrics text: {sample name: {label: {values}}} and {family: type}."""
    samples = {}
    for (name, labels), _ in parse_metrics(text).items():
        d = samples.setdefault(name, {})
        for k, v in labels:
            d.setdefault(k, set()).add(v)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    return samples, types


def make_entrypoint(d, config):
    """docker/entrypoint.sh with the image's paths pointing at this machine's
    binary, docker/container.yaml and `config` (which may not exist)."""
    with open(ENTRYPOINT) as f:
        text = f.read()
    for path in (IMAGE_BIN, IMAGE_DEFAULTS, IMAGE_CONFIG):
        assert text.count(path + "\n") == 1, "%s: %s must be named once" % (ENTRYPOINT, path)
    text = (text.replace(IMAGE_DEFAULTS, CONTAINER_YAML).replace(IMAGE_CONFIG, config)
            .replace(IMAGE_BIN + "\n", resolver_bin() + "\n"))
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "entrypoint.sh")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def redis_conf_lines(command):
    """compose's `redis-server --key value ...` as redis.conf lines."""
    assert command[0] == "redis-server", command
    lines, cur = [], None
    for tok in command[1:]:
        if tok.startswith("--"):
            cur = [tok[2:]]
            lines.append(cur)
        else:
            cur.append(tok if tok else '""')
    return [" ".join(l) for l in lines]


class Fleet(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        # Two chains through the same four zones, and a dangling one.
        h.zone("chain.com.", [5], ["a 300 CNAME b.mid.net.", "a2 300 CNAME b2.mid.net.",
                                   "dang 300 CNAME gone.chain.com."])
        h.zone("mid.net.", [6], ["b 300 CNAME c.end.org.", "b2 300 CNAME c2.end.org."])
        h.zone("end.org.", [7], ["c 300 CNAME d.final.com.", "c2 300 CNAME d2.final.com."])
        h.zone("final.com.", [8], ["d 300 A 192.0.2.50", "d2 300 A 192.0.2.51"])

    @classmethod
    def setUpClass(cls):
        cls.compose = load_yaml(COMPOSE)
        super().setUpClass()
        try:
            svc = cls.compose["services"]
            cls.redis = RedisServer(redis_addr(BASE, 1), 6379, cls.tmpdir,
                                    extra=redis_conf_lines(svc["redis"]["command"])).start()
            compose_redis = "redis://%s:6379" % (
                svc["redis"]["networks"]["fleet"]["ipv4_address"])
            cls.res = {}
            for n, name in enumerate(CHAINDNS_SERVICES, 1):
                args = [cls.redis.url if a == compose_redis else a
                        for a in svc[name]["command"]]
                d = os.path.join(cls.tmpdir, name)
                conf = os.path.join(d, "chaindns.yaml")
                entry = make_entrypoint(d, conf)
                if n == 2:  # B: an operator's file mounted at /etc/chaindns/chaindns.yaml
                    with open(conf, "w") as f:
                        f.write("cache-size: 32m\n")
                cls.res[name] = cls.start_resolver(args, n=n, metrics=True, binary=entry)
            cls.a, cls.b = cls.res["chaindns-1"], cls.res["chaindns-2"]
        except BaseException:
            cls.tearDownClass()
            raise

    # -- the image ----------------------------------------------------------

    def test_dockerfile(self):
        stages = dockerfile_stages()
        self.assertEqual([(s["from"], s["name"]) for s in stages],
                         [("debian:12", "build"), ("debian:12-slim", None)])
        run = stages[-1]
        ins = run["ins"]
        kws = [k for k, _ in ins]
        # Non-root, numeric (runAsNonRoot can check it), created in the image.
        user = [a for k, a in ins if k == "USER"]
        self.assertEqual(len(user), 1, ins)
        uid = user[0].split(":")[0]
        self.assertTrue(uid.isdigit() and int(uid) != 0, user)
        self.assertTrue(any(k == "RUN" and "useradd" in a and "--uid %s" % uid in a
                            for k, a in ins), "the user is created with uid %s" % uid)
        # The binary, the defaults and the entry point where the entry point expects them.
        copies = {a.split()[-1]: a.split()[-2] for k, a in ins if k == "COPY"}
        self.assertEqual(copies.get(IMAGE_BIN), "/src/build/chaindns", copies)
        self.assertEqual(copies.get(IMAGE_DEFAULTS), "docker/container.yaml", copies)
        self.assertEqual(copies.get(IMAGE_ENTRYPOINT), "docker/entrypoint.sh", copies)
        for k, a in ins:
            if k == "COPY" and "--from" not in a:
                self.assertTrue(os.path.exists(os.path.join(REPO, a.split()[-2])), a)
        entry = [json.loads(a) for k, a in ins if k == "ENTRYPOINT"]
        self.assertEqual(entry, [[IMAGE_ENTRYPOINT]])
        # Port 53 as non-root: setcap in a RUN after the binary is copied,
        # with libcap2-bin installed before, all before USER.
        setcap = [i for i, (k, a) in enumerate(ins) if k == "RUN" and
                  re.search(r"setcap cap_net_bind_service=\+ep %s\b" % IMAGE_BIN, a)]
        copy_bin = [i for i, (k, a) in enumerate(ins) if k == "COPY" and a.endswith(IMAGE_BIN)]
        self.assertTrue(setcap and copy_bin and setcap[0] > copy_bin[0], ins)
        self.assertLess(setcap[0], kws.index("USER"))
        runtime_pkgs = [p for k, a in ins if k == "RUN" for p in apt_packages(a)]
        self.assertIn("libcap2-bin", runtime_pkgs)
        # The control socket's directory, the image user's and private.
        self.assertTrue(any(re.search(r"install -d -o 10053 -g 10053 -m 0700 /run/chaindns\b", a)
                            for k, a in ins if k == "RUN"), ins)
        # Ports: the container defaults' listen and metrics ports are exposed.
        defaults = load_yaml(CONTAINER_YAML)
        # The network side serves metrics only: cache control is the socket.
        self.assertNotIn("control-token-file", defaults)
        self.assertEqual(defaults["control-socket"], "auto")
        dns_port = defaults["listen"][0].rsplit(":", 1)[1]
        metrics_port = defaults["metrics"].rsplit(":", 1)[1]
        self.assertEqual((dns_port, metrics_port), ("53", "5399"))
        exposed = set(" ".join(a for k, a in ins if k == "EXPOSE").split())
        self.assertEqual(exposed, {"53/udp", "53/tcp", "5399/tcp"})
        # Every package named exists in Debian 12 (this machine's apt lists).
        build_pkgs = [p for k, a in stages[0]["ins"] if k == "RUN" for p in apt_packages(a)]
        out = subprocess.run(["apt-cache", "policy"] + build_pkgs + runtime_pkgs,
                             capture_output=True, text=True, timeout=60).stdout
        candidates = dict(re.findall(r"^(\S+?)(?::\w+)?:\n(?:  .*\n)*?  Candidate: (\S+)",
                                     out, re.M))
        lists = glob.glob("/var/lib/apt/lists/*_Packages*")
        for p in build_pkgs + runtime_pkgs:
            if candidates.get(p, "(none)") == "(none)" and not lists:
                sys.stderr.write("no apt lists (apt-get update): %s not checked\n" % p)
                continue
            self.assertNotEqual(candidates.get(p, "(none)"), "(none)", "no Debian package %s" % p)
        # The build stage installs what CMake's pkg_check_modules look for.
        for cm in (os.path.join(REPO, "CMakeLists.txt"),
                   os.path.join(REPO, "tests", "CMakeLists.txt")):
            with open(cm) as f:
                for mod in re.findall(r"pkg_check_modules\(\w+\s+REQUIRED\s+(?:IMPORTED_TARGET\s+)?"
                                      r"([\w.+-]+)", f.read()):
                    pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", mod],
                                           capture_output=True, text=True).stdout.strip()
                    owner = subprocess.run(["dpkg", "-S", os.path.join(pcdir, mod + ".pc")],
                                           capture_output=True, text=True).stdout.split(":")[0]
                    self.assertIn(owner, build_pkgs, "pkg-config module %s" % mod)

    def test_dockerfile_build_stage_and_runtime_libraries(self):
        """The build stage's COPYs and cmake RUN, replayed in an empty
        directory: the image builds from exactly those files, and the
        binary's shared libraries all come from runtime-stage packages."""
        build = dockerfile_stages()[0]
        ctx = tempfile.mkdtemp(prefix="image-build-", dir=self.tmpdir)
        for k, a in build["ins"]:
            if k == "WORKDIR":
                self.assertEqual(a, "/src")
            elif k == "COPY":
                src, dst = a.split()
                dst = os.path.join(ctx, dst)
                if os.path.isdir(os.path.join(REPO, src)):
                    shutil.copytree(os.path.join(REPO, src), dst,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(os.path.join(REPO, src), dst)
            elif k == "RUN" and "apt-get" not in a:
                p = subprocess.run(["/bin/sh", "-ec", a], cwd=ctx, capture_output=True,
                                   text=True, timeout=600)
                self.assertEqual(p.returncode, 0, "RUN %s\n%s%s" % (a, p.stdout[-3000:],
                                                                     p.stderr[-3000:]))
        binary = os.path.join(ctx, "build", "chaindns")
        p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        runtime = dockerfile_stages()[-1]["ins"]
        runtime_pkgs = [p for k, a in runtime if k == "RUN" for p in apt_packages(a)]
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", subprocess.run(
            ["readelf", "-d", binary], capture_output=True, text=True, timeout=10).stdout)
        self.assertIn("libc.so.6", needed)
        for lib in needed:
            path = subprocess.run(["/bin/sh", "-c", "ldconfig -p | awk '$1 == \"%s\" "
                                   "{print $NF; exit}'" % lib], capture_output=True,
                                  text=True).stdout.strip()
            owner = ""
            for candidate in (path, os.path.realpath(path)):  # merged /usr or not
                owner = owner or subprocess.run(["dpkg", "-S", candidate], capture_output=True,
                                                text=True).stdout.split(":")[0]
            self.assertTrue(owner == "libc6" or owner in runtime_pkgs,
                            "%s (%s, package %r) is not installed by the runtime stage"
                            % (lib, path, owner))

    def test_healthcheck(self):
        """The HEALTHCHECK command, pointed at instance A: 0 on an answer
        (here REFUSED), non-zero when nothing answers; its tool comes from a
        runtime-stage package."""
        runtime = dockerfile_stages()[-1]["ins"]
        hc = [a for k, a in runtime if k == "HEALTHCHECK"]
        self.assertEqual(len(hc), 1)
        m = re.search(r"CMD (\[.*\])$", hc[0])
        self.assertTrue(m, "HEALTHCHECK in exec form: %s" % hc[0])
        argv = json.loads(m.group(1))
        self.assertIn("--timeout=", hc[0])
        tool = shutil.which(argv[0])
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(tool)], capture_output=True,
                               text=True).stdout.split(":")[0]
        runtime_pkgs = [p for k, a in runtime if k == "RUN" for p in apt_packages(a)]
        self.assertIn(owner, runtime_pkgs)
        self.assertIn("@127.0.0.1", argv)
        i = argv.index("-p")
        self.assertEqual(argv[i + 1], "53")

        def run(addr, port):
            cmd = [("@" + addr if a == "@127.0.0.1" else a) for a in argv]
            cmd[i + 1] = str(port)
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        p = run(self.a.addr, self.a.port)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("REFUSED", p.stdout)  # answered at once, no authority asked
        p = run(resolver_addr(BASE, 250), 5300)
        self.assertNotEqual(p.returncode, 0, p.stdout)

    def test_entrypoint(self):
        p = subprocess.run(["sh", "-n", ENTRYPOINT], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        if shutil.which("shellcheck"):
            p = subprocess.run(["shellcheck", ENTRYPOINT], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout)
        d = os.path.join(self.tmpdir, "entry")
        conf = os.path.join(d, "chaindns.yaml")
        entry = make_entrypoint(d, conf)
        p = subprocess.run([entry, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual((p.returncode, p.stdout.split()[0]), (0, "chaindns"), p.stderr)
        # A mounted file is read after the defaults (a bad key names it).
        with open(conf, "w") as f:
            f.write("listne: 0.0.0.0:53\n")
        p = subprocess.run([entry, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("%s:1: unknown key 'listne'" % conf, p.stderr)
        os.unlink(conf)
        # `trace NAME TYPE` keeps its words first and still gets the files.
        p = subprocess.run([entry, "trace", "a.chain.com", "A", "--root-hints", self.h.hints,
                            "--upstream-port", str(self.h.port)] + harness.UNSIGNED_ROOT_ARGS,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("chain: 3 hop(s), complete", p.stdout)

    def test_operator_config_file(self):
        """B has a file at /etc/chaindns/chaindns.yaml (cache-size: 32m); A
        has none and keeps the default 64m. SIGHUP re-reads B's layers."""
        self.assertEqual(metric(self.a.metrics(), "chaindns_cache_max_bytes"), 64 << 20)
        self.assertEqual(metric(self.b.metrics(), "chaindns_cache_max_bytes"), 32 << 20)
        # `docker kill -s HUP`: chaindns is PID 1 (the entry point execs it) and
        # re-reads both files: a change in the mounted one applies, and
        # nothing is taken for a restart-only change (cache-size is still the file's).
        self.assertEqual(self.b.http("/trace?name=a.chain.com")[0], 200)
        with open(os.path.join(self.tmpdir, "chaindns-2", "chaindns.yaml"), "a") as f:
            f.write("trace-rate: 0\n")
        self.b.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: self.b.http("/trace?name=a.chain.com")[0] == 429, 5,
                                 interval=0.1), self.b.log[-2000:])
        hup = [l for l in self.b.log.splitlines() if "SIGHUP" in l]
        self.assertTrue(hup and not any("restart" in l or "error" in l for l in hup), hup)
        self.assertTrue(self.b.alive())

    # -- compose, Prometheus, Grafana ---------------------------------------

    def test_compose(self):
        c = self.compose
        svc = c["services"]
        self.assertEqual(set(svc), {"redis", "prometheus", "grafana"} | set(CHAINDNS_SERVICES))
        for name, s in svc.items():
            image = s["image"]
            self.assertRegex(image, r":[\w.-]+$", "%s: pin the image tag" % name)
            self.assertFalse(image.endswith(":latest"), name)
        subnet = ipaddress.ip_network(c["networks"]["fleet"]["ipam"]["config"][0]["subnet"])
        redis_ip = ipaddress.ip_address(svc["redis"]["networks"]["fleet"]["ipv4_address"])
        self.assertIn(redis_ip, subnet)
        self.assertEqual(svc["redis"]["healthcheck"]["test"], ["CMD", "redis-cli", "ping"])
        self.assertIn("--maxmemory-policy", svc["redis"]["command"])
        flags = help_flags()
        ips = set()
        host_ports = set()
        for name in CHAINDNS_SERVICES:
            s = svc[name]
            self.assertEqual(s["build"]["dockerfile"], "docker/Dockerfile")
            self.assertEqual(os.path.realpath(os.path.join(DOCKER, s["build"]["context"])),
                             os.path.realpath(REPO))
            self.assertEqual(s["depends_on"]["redis"]["condition"], "service_healthy")
            if "ALL" in s.get("cap_drop", []):
                self.assertIn("NET_BIND_SERVICE", s.get("cap_add", []),
                              "the setcap'd binary cannot exec without it")
            self.assertNotIn("no-new-privileges:true", s.get("security_opt", []),
                             "it would void the file capability")
            cmd = s["command"]
            for tok in cmd:
                if tok.startswith("--"):
                    self.assertIn(tok, flags, "%s: %s is not in chaindns --help" % (name, tok))
            self.assertNotIn("--listen", cmd)  # the image's 0.0.0.0:53
            opts = {}
            for k, v in zip(cmd, cmd[1:]):
                if k.startswith("--"):
                    opts.setdefault(k, []).append(v)
            self.assertEqual(opts["--redis-url"], ["redis://%s:6379" % redis_ip])
            one = svc["chaindns-1"]["command"]
            self.assertEqual(opts["--redis-prefix"], [one[one.index("--redis-prefix") + 1]])
            allow = [ipaddress.ip_network(a) for a in opts["--allow"]]
            self.assertTrue(any(subnet.subnet_of(a) for a in allow), "fleet network allowed")
            self.assertTrue(any(ipaddress.ip_address("127.0.0.1") in a for a in allow),
                            "loopback allowed: the HEALTHCHECK asks from there")
            ip = ipaddress.ip_address(s["networks"]["fleet"]["ipv4_address"])
            self.assertIn(ip, subnet)
            ips.add(ip)
            protos = set()
            for p in s["ports"]:
                host_ip, host_port, rest = p.split(":")
                self.assertEqual(host_ip, "127.0.0.1", "%s: published on loopback only" % name)
                self.assertEqual(rest.split("/")[0], "53")
                protos.add(rest.split("/")[1])
                host_ports.add((host_port, rest.split("/")[1]))
            self.assertEqual(protos, {"udp", "tcp"})
            # Prometheus asks for name:5399: the Host check must let that
            # name through (DNS rebinding protection), and only that one.
            self.assertEqual(opts.get("--metrics-allowed-host"), [name])
            # Cache control stays off the network: no token, and the
            # control socket's directory is writable in a read-only container.
            self.assertNotIn("--control-token-file", cmd)
            if s.get("read_only"):
                tmpfs = [t for t in s.get("tmpfs", []) if t.split(":")[0] == "/run/chaindns"]
                self.assertEqual(len(tmpfs), 1, "%s: a tmpfs for the control socket" % name)
                self.assertIn("uid=10053", tmpfs[0])
                self.assertIn("mode=0700", tmpfs[0])
        self.assertEqual(len(ips | {redis_ip}), 3, "distinct addresses")
        self.assertEqual(len(host_ports), 4, "distinct host ports")
        # Prometheus scrapes the resolvers' metrics port by service name.
        prom = svc["prometheus"]
        mounts = dict(v.split(":")[:2] for v in prom["volumes"] if v.startswith("./"))
        self.assertEqual(mounts, {"./prometheus.yml": "/etc/prometheus/prometheus.yml"})
        self.assertIn("--config.file=/etc/prometheus/prometheus.yml", prom["command"])
        jobs = load_yaml(PROM_CONFIG)["scrape_configs"]
        targets = [t for j in jobs if j["job_name"] == "chaindns"
                   for sc in j["static_configs"] for t in sc["targets"]]
        metrics_port = load_yaml(CONTAINER_YAML)["metrics"].rsplit(":", 1)[1]
        self.assertEqual(sorted(targets), ["%s:%s" % (n, metrics_port) for n in CHAINDNS_SERVICES])
        # Grafana: provisioning and dashboards mounted where the provider looks.
        g = svc["grafana"]
        gm = {}
        for v in g["volumes"]:
            src, dst = v.split(":")[:2]
            if src.startswith("./"):
                self.assertTrue(os.path.exists(os.path.join(DOCKER, src)), v)
                gm[dst] = os.path.join(DOCKER, src)
        self.assertEqual(os.path.realpath(gm["/etc/grafana/provisioning"]),
                         os.path.join(GRAFANA, "provisioning"))
        provider = load_yaml(os.path.join(GRAFANA, "provisioning", "dashboards", "chaindns.yaml"))
        path = provider["providers"][0]["options"]["path"]
        self.assertEqual(os.path.realpath(gm[path]), os.path.dirname(DASHBOARD))
        home = g["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        self.assertEqual(os.path.dirname(home), path)
        self.assertTrue(os.path.exists(os.path.join(gm[path], os.path.basename(home))))
        ds = load_yaml(os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yaml"))
        url = urllib.parse.urlsplit(ds["datasources"][0]["url"])
        self.assertEqual(url.hostname, "prometheus")
        self.assertEqual(url.port, 9090)  # Prometheus's default --web.listen-address
        self.assertFalse(any("web.listen-address" in a for a in prom["command"]))
        # Docker's own parser, where the compose plugin exists (not in CI).
        if shutil.which("docker") and subprocess.run(
                ["docker", "compose", "version"], capture_output=True).returncode == 0:
            p = subprocess.run(["docker", "compose", "-f", COMPOSE, "config", "-q"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_metrics_answer_the_names_prometheus_uses(self):
        """Prometheus scrapes chaindns-1:5399 by name: the Host header it
        sends is served by that instance (compose's --metrics-allowed-host),
        another name is refused (DNS rebinding), and cache control is not
        served over HTTP at all."""
        import http.client
        for name, res in self.res.items():
            addr, port = res.metrics_url.split("//", 1)[1].rsplit(":", 1)
            for host, want in (("%s:%s" % (name, port), 200), ("attacker.example", 403)):
                c = http.client.HTTPConnection(addr, int(port), timeout=10)
                c.request("GET", "/metrics", headers={"Host": host})
                r = c.getresponse()
                r.read()
                c.close()
                self.assertEqual(r.status, want, (name, host))
            status, _ = res.http("/cache/stats")
            self.assertEqual(status, 404)

    def test_promtool_check_config(self):
        p = subprocess.run(["promtool", "check", "config", PROM_CONFIG], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_grafana_provisioning(self):
        ds = load_yaml(os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yaml"))
        self.assertEqual(ds["apiVersion"], 1)
        (src,) = ds["datasources"]
        self.assertEqual(src["type"], "prometheus")
        scrape = load_yaml(PROM_CONFIG)["global"]["scrape_interval"]
        self.assertEqual(src["jsonData"]["timeInterval"], scrape)
        prov = load_yaml(os.path.join(GRAFANA, "provisioning", "dashboards", "chaindns.yaml"))
        self.assertEqual(prov["apiVersion"], 1)
        self.assertEqual([p["type"] for p in prov["providers"]], ["file"])
        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertEqual(dash["uid"], "chaindns")
        ids = []
        for p in dash["panels"]:
            ids.append(p["id"])
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"]["uid"], src["uid"], p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], src["uid"], p["title"])
        self.assertEqual(len(ids), len(set(ids)), "panel ids unique")
        for v in dash["templating"]["list"]:
            self.assertEqual(v["datasource"]["uid"], src["uid"])

    def test_dashboard_names_only_exported_metrics(self):
        """Every metric, label and label value the dashboard's PromQL names
        is in a resolver's exposition (B: with the shared tier)."""
        with open(DASHBOARD) as f:
            dash = json.load(f)
        status, text = self.b.http("/metrics")
        self.assertEqual(status, 200)
        samples, types = exposition_index(text)
        exprs = [(title, t["expr"]) for title, t in dashboard_targets(dash)]
        for v in dash["templating"]["list"]:
            m = re.match(r"label_values\((\w+), *(\w+)\)$", v["query"]["query"])
            self.assertTrue(m, v)
            exprs.append(("$" + v["name"], "%s{%s!=\"\"}" % (m.group(1), m.group(2))))
        used = set()
        for title, expr in exprs:
            self.assertEqual(set(re.findall(r"\$\w+", expr)) - set(GRAFANA_VARS), set(),
                             "%s: unknown variable in %s" % (title, expr))
            names = promql_metric_names(expr)
            self.assertTrue(names, "%s: no metric in %s" % (title, expr))
            for name in names - PROMETHEUS_METRICS:
                used.add(name)
                self.assertTrue(name in samples,
                                "%s: %s is not exported (%s)" % (title, name, expr))
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name.endswith("_bucket"):
                    self.assertEqual(types.get(base), "histogram", "%s: %s" % (title, name))
                elif base != name:
                    self.assertIn(types.get(base, types.get(name)),
                                  ("histogram", "counter", "gauge"), name)
            for name, matchers in promql_selectors(expr):
                if name in PROMETHEUS_METRICS:
                    continue
                for label, op, value in matchers:
                    if label in ("instance", "job"):
                        continue
                    self.assertTrue(label in samples[name],
                                    "%s: %s has no label %s" % (title, name, label))
                    if op == "=":
                        self.assertIn(value, samples[name][label],
                                      "%s: %s{%s=%r} never exported" % (title, name, label, value))
            for label in promql_grouping_labels(expr) - {"le", "instance", "job"}:
                self.assertTrue(any(label in samples[n] for n in names if n in samples),
                                "%s: no metric of %s has label %s" % (title, expr, label))
        # The chain metrics the issue asks for are all on the dashboard.
        for want in ("chaindns_chain_length_bucket", "chaindns_chain_zone_duration_seconds_bucket",
                     "chaindns_chain_dangling_total", "chaindns_chain_loops_total",
                     "chaindns_chain_too_long_total", "chaindns_answer_duration_seconds_count",
                     "chaindns_cache_lookups_total", "chaindns_redis_lookups_total",
                     "chaindns_queries_total", "chaindns_responses_total",
                     "chaindns_limited_total"):
            self.assertIn(want, used)

    # -- the topology, live ---------------------------------------------------

    def prometheus_query(self, expr):
        url = "http://%s/api/v1/query?%s" % (PROM_LISTEN, urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        self.assertEqual(body.get("status"), "success", "%s: %s" % (expr, body))
        return body["data"]["result"]

    def series(self, expr, *labels):
        """{(label values...): float} of an instant query's vector."""
        return {tuple(r["metric"].get(l) for l in labels): float(r["value"][1])
                for r in self.prometheus_query(expr)}

    def test_fleet_through_prometheus(self):
        prom = shutil.which("prometheus")
        self.assertIsNotNone(prom, "Debian's prometheus package is needed")
        with open(DASHBOARD) as f:
            dash = json.load(f)
        panel = {}
        for title, t in dashboard_targets(dash):
            panel.setdefault(title, []).append(t["expr"])
        # docker/prometheus.yml, targets replaced, scraping every second.
        conf = load_yaml(PROM_CONFIG)
        conf["global"].update(scrape_interval="1s", evaluation_interval="1s")
        (job,) = [j for j in conf["scrape_configs"] if j["job_name"] == "chaindns"]
        (sc,) = job["static_configs"]
        self.assertEqual(len(sc["targets"]), 2)
        sc["targets"] = [self.res[n].metrics_url.split("//", 1)[1] for n in CHAINDNS_SERVICES]
        d = tempfile.mkdtemp(prefix="prom-", dir=self.tmpdir)
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            yaml.safe_dump(conf, f)
        log = open(os.path.join(d, "log"), "w")
        p = subprocess.Popen([prom, "--config.file=" + os.path.join(d, "prometheus.yml"),
                              "--storage.tsdb.path=" + os.path.join(d, "data"),
                              "--web.listen-address=" + PROM_LISTEN],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        _live.append(p)  # stopped at exit too, should the test be cut short
        try:
            self._fleet_through_prometheus(panel, log.name)
        finally:
            _terminate(p, 10.0, group=True)
            log.close()

    def _fleet_through_prometheus(self, panel, logname):
        a_inst, b_inst = self.a.addr, self.b.addr  # the relabelling drops the port

        def prom_log():
            with open(logname) as f:
                return f.read()[-3000:]

        def both_up():
            try:
                return self.series('up{job="chaindns"}', "instance") == \
                    {(a_inst,): 1.0, (b_inst,): 1.0}
            except Exception:
                return False
        self.assertTrue(wait_for(both_up, 30, interval=0.25),
                        "Prometheus did not scrape both resolvers; its log:\n" + prom_log())
        # A chain through A (from the authorities), then through B (from Redis).
        r = self.a.udp("a.chain.com", timeout=5)
        self.assertResolved(r)
        self.assertChain(r, CHAIN, "A", ["192.0.2.50"])
        prefix = self.compose["services"]["chaindns-1"]["command"]
        prefix = prefix[prefix.index("--redis-prefix") + 1]
        rc = self.redis.client()
        self.assertTrue(wait_for(lambda: rc.exists("%s:v2:chain:a.chain.com." % prefix), 5),
                        "A wrote no chain record under prefix %s" % prefix)
        self.assertEqual(rc.config_get("maxmemory-policy")["maxmemory-policy"], "volatile-ttl")
        r = self.b.udp("a.chain.com", timeout=5)
        self.assertResolved(r)
        self.assertChain(r, CHAIN, "A", ["192.0.2.50"])

        # A zone's series is born when the zone joins the top K, holding what
        # it has already counted: a rate sees what comes after its first
        # scrape. So once Prometheus has the chain's zones, another chain
        # through them from the network.
        zone_seen = 'chaindns_chain_zone_duration_seconds_count{zone="%s"}'
        self.assertTrue(wait_for(lambda: all(self.prometheus_query(zone_seen % z) for z in (
            "mid.net.", "end.org.", "final.com.")), 30, interval=0.25), prom_log())
        r = self.a.udp("a2.chain.com", timeout=5)
        self.assertChain(r, ["a2.chain.com.", "b2.mid.net.", "c2.end.org.", "d2.final.com."],
                         "A", ["192.0.2.51"])

        # Chain length (quantiles panel), per instance through $instance.
        (p50,) = [e for e in panel["Chain length quantiles"] if "0.5," in e]

        def lengths():
            out = {}
            for inst in (a_inst, b_inst):
                v = self.series(expand(p50, **{"$instance": inst.replace(".", "\\\\.")}))
                out[inst] = v.get((), float("nan"))
            return out if all(2 < x <= 3 for x in out.values()) else None
        if not wait_for(lengths, 30, interval=0.5):
            self.fail("chain length p50 per instance, want (2, 3]: %s" % {
                inst: self.series(expand(p50, **{"$instance": inst.replace(".", "\\\\.")}))
                for inst in (a_inst, b_inst)})
        heat = self.series(expand(panel["Chain length (CNAMEs per chain)"][0]), "le")
        self.assertGreater(heat[("3",)] - heat[("2",)], 0, heat)
        self.assertEqual(heat[("2",)], 0, heat)

        # Hops by source: network on A, redis on B, and nothing from the network on B.
        hops = expand(panel["Chain hops/s by source"][0])

        def hop_sources():
            v = self.series(hops, "instance", "source")
            ok = (v.get((a_inst, "network"), 0) > 0 and v.get((b_inst, "redis"), 0) > 0)
            return v if ok else None
        v = wait_for(hop_sources, 30, interval=0.5)
        self.assertTrue(v, self.series(hops, "instance", "source"))
        self.assertEqual(v[(b_inst, "network")], 0, v)
        self.assertEqual(v[(a_inst, "redis")], 0, v)
        # Cache tiers: answers by source, Redis hits on B.
        answers = self.series(expand(panel["Answers/s by source"][0]), "instance", "source")
        self.assertGreater(answers[(a_inst, "network")], 0, answers)
        self.assertGreater(answers[(b_inst, "redis")], 0, answers)
        hits = [e for e in panel["Redis lookups/s"] if 'result="hit"' in e][0]
        hits = self.series(expand(hits), "instance")
        self.assertGreater(hits[(b_inst,)], 0, hits)
        self.assertEqual(hits[(a_inst,)], 0, hits)
        # The slowest zones: the chain's zones, each ranked.
        slowest = expand(panel["Slowest zones (p90 of chain steps, top 10)"][0])
        want = {("mid.net.",), ("end.org.",), ("final.com.",)}
        self.assertTrue(wait_for(lambda: want <= set(self.series(slowest, "zone")), 30,
                                 interval=0.5), self.series(slowest, "zone"))
        # A dangling chain (after the length checks: it is one CNAME long).
        self.assertRcode(self.a.udp("dang.chain.com", timeout=5), "NXDOMAIN")
        dangling = expand([e for e in panel["Broken chains/s: dangling, loops, too long"]
                           if "dangling" in e][0])
        self.assertTrue(wait_for(lambda: self.series(dangling).get((), 0) > 0, 30, interval=0.5),
                        self.series(dangling))

        # Every expression of every panel evaluates, non-empty, with the
        # labels it groups by.
        empty = []
        for title, exprs in panel.items():
            for e in exprs:
                res = self.prometheus_query(expand(e))
                if not res:
                    empty.append((title, e))
                    continue
                for label in promql_grouping_labels(e) - {"le"}:
                    self.assertTrue(any(label in r["metric"] for r in res),
                                    "%s: no %s label in %s" % (title, label, res))
        self.assertEqual(empty, [], "panels without data")


if __name__ == "__main__":
    main()
