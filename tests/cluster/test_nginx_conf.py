"""deploy/cluster.py's nginx configuration is the deployed site
(deploy/nginx/hardship.conf) with only the TLS and addresses changed, and
`make test` installs the nginx the two-server test needs."""

import re
import subprocess
from pathlib import Path

import pytest

from deploy import cluster as cluster_script

ROOT = Path(__file__).resolve().parent.parent.parent
# What the trial replaces: TLS, the addresses, the HTTP→HTTPS redirect.
REPLACED = re.compile(r"^(listen|ssl_\w+|server_name|server 127\.0\.0\.1:|return 301|alias )")


def _directives(conf: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in conf.splitlines())
    return [line for line in lines if line.endswith(";")]


def test_the_trial_site_keeps_every_directive_of_the_deployed_site(tmp_path: Path) -> None:
    site = cluster_script.SITE_TEMPLATE.read_text(encoding="utf-8")
    trial = cluster_script.nginx_site(listen=8100, app_ports=[8101, 8102], static_root=tmp_path)
    kept = [d for d in _directives(site) if not REPLACED.match(d)]
    assert len(kept) > 20
    assert [d for d in kept if d not in _directives(trial)] == []
    assert re.findall(r"server 127\.0\.0\.1:(\d+);", trial) == ["8101", "8102"]
    assert re.findall(r"listen ([^;]+);", trial) == ["127.0.0.1:8100"]
    assert "ssl" not in trial and "return 301" not in trial
    assert f"alias {tmp_path}/;" in trial
    assert "add_header X-Upstream $upstream_addr always;" in trial


def test_a_site_the_trial_cannot_be_made_from_stops_it(tmp_path: Path, monkeypatch) -> None:
    changed = tmp_path / "hardship.conf"
    site = cluster_script.SITE_TEMPLATE.read_text(encoding="utf-8")
    changed.write_text(site.replace("least_conn;", "ip_hash;"), encoding="utf-8")
    monkeypatch.setattr(cluster_script, "SITE_TEMPLATE", changed)
    with pytest.raises(cluster_script.ClusterError, match="least_conn"):
        cluster_script.nginx_site(listen=8100, app_ports=[8101], static_root=tmp_path)


@pytest.mark.skipif(cluster_script.nginx_binary() is None, reason="nginx is not installed")
def test_nginx_accepts_the_trial_configuration(tmp_path: Path) -> None:
    for sub in ("nginx", "logs", "static"):
        (tmp_path / sub).mkdir()
    conf = tmp_path / "nginx" / "nginx.conf"
    conf.write_text(
        cluster_script.nginx_conf(workdir=tmp_path, listen=8100, app_ports=[8101, 8102]),
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(cluster_script.nginx_binary()), "-t", "-p", str(tmp_path / "nginx"),
         "-e", str(tmp_path / "logs" / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_make_test_installs_nginx_and_make_cluster_runs_the_script() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    packages = re.search(r"^TEST_PACKAGES := (.*)$", makefile, re.MULTILINE)
    assert packages is not None and "nginx" in packages.group(1).split()
    target = re.search(r"^cluster:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert target is not None and "deploy/cluster.py" in target.group(1)
