#!/usr/bin/python3
"""YAML that chaindns would misread is refused at start-up with the file,
the line and what is wrong (issue 17, item 6): a key given twice (YAML
says keys are unique; taking the last one would hide the first), anchors
and aliases (a value written elsewhere), and a second document after
'---' (which used to be ignored). The process exits 2 and starts nothing."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import main, run_chaindns  # noqa: E402

CASES = [
    ("threads: 1\nlog-level: info\nthreads: 2\n", 3,
     "key 'threads' appears twice (first on line 1)"),
    ("redis:\n  url: redis://127.0.0.1\n  secret: aaaaaaaaaaaaaaaaaaaa\n"
     "  secret: bbbbbbbbbbbbbbbbbbbb\n", 4, "key 'redis.secret' appears twice"),
    ("allow: &nets [\"127.0.0.0/8\"]\nlisten: [\"127.0.0.1:53\"]\n", 1,
     "anchors and aliases"),
    ("max-ttl: 300\nmin-ttl: *ttl\n", 2, "anchors and aliases"),
    ("threads: 1\n---\nthreads: 8\n", 2, "a second YAML document"),
]


class YamlRefused(unittest.TestCase):
    def test_each_case_is_refused_with_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            for i, (text, line, what) in enumerate(CASES):
                path = os.path.join(d, "case%d.yaml" % i)
                with open(path, "w") as f:
                    f.write(text)
                res = run_chaindns(["--config", path, "--listen", "127.54.47.1:5300"])
                self.assertEqual(res.returncode, 2, (text, res.stderr))
                self.assertIn("%s:%d:" % (path, line), res.stderr, text)
                self.assertIn(what, res.stderr, text)

    def test_a_plain_file_still_starts_fine(self):
        # check-free: --help after --config reads and checks the file, then
        # prints the usage and exits 0.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ok.yaml")
            with open(path, "w") as f:
                f.write("---\nthreads: 1\nallow: [\"127.0.0.0/8\"]\n...\n")
            res = run_chaindns(["--config", path, "--help"])
            self.assertEqual(res.returncode, 0, res.stderr)


if __name__ == "__main__":
    main()
