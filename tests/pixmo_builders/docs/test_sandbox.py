import sys

from pixmo_builders.docs.sandbox import SandboxLimits, network_namespace_prefix, run_sandboxed


def _python(code: str, **limits) -> object:
    return run_sandboxed(
        argv=[sys.executable, "job.py"],
        files={"job.py": code.encode()},
        output_name="out.bin",
        limits=SandboxLimits(**limits),
    )


def test_output_comes_back_from_a_temporary_folder():
    result = _python("import os\nopen('out.bin', 'wb').write(os.getcwd().encode())")
    assert result.ok and b"pixmo-sandbox-" in result.output


def test_no_network():
    result = _python(
        "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)\nopen('out.bin','w').write('x')"
    )
    assert not result.ok and "network access is disabled" in result.error
    raw = _python(
        "import socket\ns = socket.socket.__new__(socket.socket)\n"
        "import _socket\nraw = _socket.socket()\nraw.connect(('1.1.1.1', 80))\nopen('out.bin','w').write('x')"
    )
    assert not raw.ok
    if network_namespace_prefix():
        assert "unreachable" in raw.error.lower() or "errno" in raw.error.lower()


def test_time_and_memory_limits_stop_the_code():
    slow = _python("while True:\n    pass", timeout_s=1.5)
    assert not slow.ok and "timed out" in slow.error
    greedy = _python(
        "data = bytearray(2 * 1024 ** 3)\nopen('out.bin','w').write('x')", memory_bytes=512 * 1024 * 1024
    )
    assert not greedy.ok and "MemoryError" in greedy.error


def test_environment_carries_no_credentials(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    result = _python("import os\nopen('out.bin', 'w').write(repr(sorted(os.environ)))")
    assert b"AWS_SECRET_ACCESS_KEY" not in result.output and b"HTTPS_PROXY" not in result.output
