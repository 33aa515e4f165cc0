#!/usr/bin/python3
"""What an operator installs besides the binary: the README's copy of
--help is the binary's, the systemd unit passes systemd-analyze verify and
reloads with SIGHUP, and the sample configuration starts a resolver."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import resolver_bin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Service(unittest.TestCase):
    def test_readme_help_is_the_binarys(self):
        out = subprocess.run([resolver_bin(), "--help"], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(out.returncode, 0)
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        m = re.search(r"`chaindns --help` prints[^\n]*\n\n```text\n(.*?)```", readme, re.S)
        self.assertIsNotNone(m, "no --help block in the README")
        self.assertEqual(m.group(1), out.stdout)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_systemd_unit_verifies(self):
        with open(os.path.join(ROOT, "docker", "chaindns.service")) as f:
            unit = f.read()
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", unit)
        self.assertIn("AmbientCapabilities=CAP_NET_BIND_SERVICE", unit)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "chaindns.service")
            with open(path, "w") as f:  # the binary where this build put it
                f.write(unit.replace("/usr/local/bin/chaindns", resolver_bin()))
            out = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertNotIn("Unknown", out.stdout + out.stderr)

    def test_sample_config_is_accepted(self):
        # --help after --config: the file is read (and must be valid) first.
        sample = os.path.join(ROOT, "docker", "chaindns.sample.yaml")
        out = subprocess.run([resolver_bin(), "--config", sample, "--help"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
