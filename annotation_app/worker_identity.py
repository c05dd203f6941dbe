"""This worker process's name in heartbeats and on the jobs it runs: its hostname and the main
process id, so a worker restarted under the same hostname is not taken for the one that died.
The worker sets it before its pool forks (the children inherit it); empty outside a worker."""

_instance = ""


def worker_instance() -> str:
    return _instance


def worker_instance_set(name: str) -> None:
    global _instance
    _instance = name
