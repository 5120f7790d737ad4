"""Graceful reload commands per host, for the servers that host runs."""

from deploy.siteconfig import reload_commands


def test_balancer_reloads_haproxy_checked_first_and_new_vcl(sites):
    env = sites.environment("prod")
    lb1 = env.hosts[0]
    haproxy, varnish = reload_commands(env, lb1)
    assert haproxy == ("haproxy -c -q -f /srv/shipsite/current/etc/haproxy/haproxy.cfg && haproxy -D -f "
                       "/srv/shipsite/current/etc/haproxy/haproxy.cfg -sf $(cat /srv/shipsite/shared/run/haproxy.pid)")
    assert "varnishadm -t 5 -n /var/lib/varnish/lb1 vcl.load \"$name\" /srv/shipsite/current/etc/varnish/default.vcl" in varnish
    assert varnish.endswith('vcl.use "$name"')


def test_web_hosts_reload_nginx_and_supervisor(sites):
    env = sites.environment("prod")
    assert reload_commands(env, env.hosts[1]) == ["nginx -t -q && nginx -s reload",
                                                  "supervisorctl reread && supervisorctl update"]


def test_linux_farm_reloads_workers_before_the_balancer(sites):
    env = sites.environment("farm")
    commands = reload_commands(env, env.hosts[0])
    assert commands[:3] == [
        f"apache2ctl -t -f /srv/farm/current/etc/apache/{c} && apache2ctl -k graceful -f /srv/farm/current/etc/apache/{c}"
        for c in ("worker-1.conf", "worker-2.conf", "balancer.conf")]
    assert commands[3] == "supervisorctl reread && supervisorctl update"


def test_windows_farm_restarts_its_services_in_powershell(sites):
    env = sites.environment("winfarm")
    commands = reload_commands(env, env.hosts[0], project="shipsite")
    assert commands[0] == ("& 'C:/Apache24/bin/httpd.exe' -t -f 'C:/srv/shipsite/current/etc/apache/worker-1.conf'; "
                           "if ($LASTEXITCODE -eq 0) { & 'C:/Apache24/bin/httpd.exe' -k restart -n 'shipsite-www1' }")
    assert commands[-1].endswith("-k restart -n 'shipsite-balancer' }")


def test_iis_and_systemd(sites):
    assert reload_commands(sites.environment("iis"), sites.environment("iis").hosts[0]) == []
    edge = sites.environment("edge")
    assert reload_commands(edge, edge.hosts[0]) == ["nginx -t -q && nginx -s reload", "systemctl daemon-reload"]


def test_host_dirs_name_log_and_run_directories(sites):
    from deploy.siteconfig import host_dirs

    prod, iis = sites.environment("prod"), sites.environment("iis")
    assert host_dirs(prod, prod.hosts[1]) == ["/srv/shipsite/shared/log", "/srv/shipsite/shared/run"]
    assert host_dirs(iis, iis.hosts[0]) == ["D:\\sites\\shipsite\\shared\\log", "D:\\sites\\shipsite\\shared\\run"]
