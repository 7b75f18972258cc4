"""Headless chromium for the report tests (Debian's ``chromium``; ``.ci/run`` installs it when missing)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("load", () => {
  const figures = Array.from(document.querySelectorAll("figure")).map(f => {
    const s = f.querySelector("svg");
    if (!s) return {id: f.id, width: 0, height: 0, drawn: 0, bbox: [0, 0]};
    const r = s.getBoundingClientRect(), b = s.getBBox();
    return {id: f.id, width: r.width, height: r.height, drawn: s.querySelectorAll("path,use,text").length,
            bbox: [b.width, b.height]};
  });
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({figures: figures, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""


@dataclass
class Loaded:
    figures: list[dict]
    errors: list[str]
    console: list[str]


class Chromium:
    def __init__(self, binary: str, tmp: Path) -> None:
        self.binary, self.tmp, self.runs = binary, tmp, 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        profile = self.tmp / f"profile-{self.runs}"
        command = [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)

    def load(self, page: Path) -> Loaded:
        """Load a copy of ``page`` with a probe script; the figures' rendered sizes and every page error."""
        probed = self.tmp / f"probed-{self.runs}-{page.name}"
        probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
        done = self._run("--dump-dom", probed.as_uri())
        match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
        assert match, "the probe did not run: " + done.stderr[-2000:]
        found = json.loads(html.unescape(match.group(1)))
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        return Loaded(found["figures"], found["errors"], console)

    def screenshot(self, page: Path, size: tuple[int, int]) -> Path:
        out = self.tmp / f"shot-{self.runs}.png"
        self._run(f"--screenshot={out}", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars", page.as_uri())
        return out


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
    return Chromium(binary, tmp_path_factory.mktemp("chromium"))
