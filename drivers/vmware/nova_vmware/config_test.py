"""The port the driver connects to: the URL's, else its scheme's (https 443, http 80)."""

import pytest

from nova_vmware.config import VMwareConfig


@pytest.mark.parametrize(
    ("url", "port", "endpoint"),
    [
        ("https://vc.example.org/sdk", 443, "https://vc.example.org:443/sdk"),
        ("http://127.0.0.1/sdk", 80, "http://127.0.0.1:80/sdk"),
        ("http://localhost", 80, "http://localhost:80/sdk"),
        ("https://vc.example.org:8443/sdk", 8443, "https://vc.example.org:8443/sdk"),
        ("https://vc.example.org:80/sdk", 80, "https://vc.example.org:80/sdk"),
        ("http://127.0.0.1:8989/sdk", 8989, "http://127.0.0.1:8989/sdk"),
        ("http://[::1]:443/sdk", 443, "http://[::1]:443/sdk"),
    ],
)
def test_the_port_is_the_urls_or_its_schemes(url: str, port: int, endpoint: str) -> None:
    # `port` is what init_host passes to SmartConnect; `endpoint` is how messages name it.
    cfg = VMwareConfig.from_options({"url": url, "username": "u", "password": "p"})
    assert cfg.port == port
    assert cfg.endpoint == endpoint
