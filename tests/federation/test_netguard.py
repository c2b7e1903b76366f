"""The private-address guard, tested through the address check and injected resolvers:
no test lets a fetch try an address off this machine (FEDERATION.md section 3)."""

from __future__ import annotations

import pytest

from lets_site.federation import fetch, netguard
from lets_site.federation.netguard import Refused, check_address, networks, resolve, target

REFUSED = [
    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.8.9.10",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "198.18.0.1", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "2001:db8::1", "64:ff9b::a00:1", "2002:a00:1::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_check_address_refuses_non_public(address: str) -> None:
    with pytest.raises(Refused):
        check_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "100.63.255.255",
                                     "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111"])
def test_check_address_accepts_public(address: str) -> None:
    assert str(check_address(address)) == address


def test_allowed_networks_allow_exactly_what_they_name() -> None:
    only_one = networks(["127.0.0.1/32"])
    assert str(check_address("127.0.0.1", only_one)) == "127.0.0.1"
    for other in ("127.0.0.2", "::1", "10.0.0.1"):
        with pytest.raises(Refused):
            check_address(other, only_one)
    # An IPv4-mapped loopback is judged as the IPv4 address it is.
    assert str(check_address("::ffff:127.0.0.1", only_one)) == "127.0.0.1"
    assert str(check_address("127.9.9.9", networks("127.0.0.0/8"))) == "127.9.9.9"


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001",
                                  "017700000001", "127.1", "[::1]", "[::ffff:7f00:1]",
                                  "[::ffff:127.0.0.1]", "0", "012.0.0.1", "167772161"])
def test_resolve_reads_every_address_form_and_refuses_private(host: str) -> None:
    def resolver(_host: str, _port: int) -> list[str]:
        raise AssertionError("an address literal is never looked up")

    with pytest.raises(Refused):
        resolve(host, 80, resolver=resolver)


def test_literal_forms_mean_what_the_c_library_means() -> None:
    assert str(netguard.literal("2130706433")) == "127.0.0.1"
    assert str(netguard.literal("0177.0.0.1")) == "127.0.0.1"
    # Octal: 010 is 8, so this is a public address, and it is judged as such.
    assert str(netguard.literal("010.0.0.1")) == "8.0.0.1"
    assert netguard.literal("feeds.example") is None


def test_hostname_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(Refused, match=r"127\.0\.0\.1"):
        target("https://sneaky.example/feed.json", resolver=lambda h, p: ["127.0.0.1"])


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(Refused, match=r"10\.1\.2\.3"):
        target("https://mixed.example/feed.json",
               resolver=lambda h, p: ["93.184.216.34", "10.1.2.3"])


def test_target_connects_to_the_address_it_checked() -> None:
    calls: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.216.34"]

    found = target("https://Feeds.Example:8443/feed.json?x=1", resolver=resolver)
    assert calls == [("feeds.example", 8443)]  # resolved once
    assert (found.host, found.address, found.port, found.path) == (
        "feeds.example", "93.184.216.34", 8443, "/feed.json?x=1")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd",
                                 "ftp://feeds.example/feed.json", "gopher://x/",
                                 "https://user:pw@feeds.example/feed.json", "https:///x",
                                 "https://feeds.example:99999/"])
def test_target_refuses_other_urls(url: str) -> None:
    with pytest.raises(Refused):
        target(url, resolver=lambda h, p: ["93.184.216.34"])


def test_plain_http_only_when_configured() -> None:
    with pytest.raises(Refused, match="http"):
        target("http://feeds.example/feed.json", resolver=lambda h, p: ["93.184.216.34"])
    assert target("http://feeds.example/feed.json", allow_http=True,
                  resolver=lambda h, p: ["93.184.216.34"]).port == 80


def test_fetch_refuses_a_name_resolving_to_a_private_address_before_connecting() -> None:
    # The autouse network guard would turn any connection attempt into a RuntimeError;
    # the fetch must refuse before it opens a socket.
    limits = fetch.Limits(allow_http=True)
    with pytest.raises(fetch.FetchError) as caught:
        fetch.get("http://intranet.example/feed.json", limits,
                  resolver=lambda h, p: ["10.0.0.5"])
    assert caught.value.outcome == "refused"
