"""Launching the policy pack the way the Pulumi CLI does, and talking to it.

The CLI runs a Python policy pack through the Python language host, which starts
``python -u -m pulumi.policy <engine address> <pack directory>`` in the pack's virtualenv
with the stack's config in ``PULUMI_CONFIG`` and ``PULUMI_PROJECT`` / ``PULUMI_STACK`` /
``PULUMI_DRY_RUN`` set. The pack's ``PolicyPack(...)`` serves the analyzer gRPC service on
127.0.0.1 and prints the port on stdout; the engine then connects and calls
GetAnalyzerInfo, Configure, ConfigureStack, Analyze per resource and AnalyzeStack.
:class:`PackServer` does exactly that; nothing here re-implements a rule.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ..errors import UsageError
from ..stackconfig import PROJECT_ROOT

PACK_DIR = PROJECT_ROOT / "policies"
#: The engine address the pack is given: nothing listens there; the pack only logs to it on
#: a crash, which we surface from its stderr instead.
NO_ENGINE = "127.0.0.1:0"
START_TIMEOUT = 60.0
MAX_MESSAGE = 400 * 1024 * 1024

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {value: key for key, value in LEVELS.items()}


class PackError(UsageError):
    """The pack could not be started or answered with an error."""


class PackServer:
    """One running policy pack process and a gRPC channel to it."""

    #: AnalyzeStack and the per-resource calls share this one process (see PackPool).
    stack_has_own_process = False

    def __init__(self, pack_dir: Path = PACK_DIR, project: str = "", stack: str = "",
                 config: Optional[dict[str, str]] = None, organization: str = "organization"):
        self.pack_dir = Path(pack_dir).resolve()  # the process runs in it; a relative path would not resolve there
        if not (self.pack_dir / "PulumiPolicy.yaml").exists():
            raise PackError(f"{self.pack_dir}: not a policy pack (no PulumiPolicy.yaml)")
        env = dict(os.environ)
        env.update(
            PULUMI_CONFIG=json.dumps(config or {}),
            PULUMI_PROJECT=project,
            PULUMI_STACK=stack,
            PULUMI_DRY_RUN="true",
            PULUMI_ORGANIZATION=organization,
        )
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", NO_ENGINE, str(self.pack_dir)],
            cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self._stderr,
        )
        port = self._read_port()
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE)],
        )
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port(self) -> int:
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
        selector.close()
        line = self.process.stdout.readline() if ready else b""
        try:
            return int(line.strip())
        except ValueError:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self._stderr.seek(0)
            stderr = self._stderr.read().decode(errors="replace").strip()
            self.close()
            last = stderr.splitlines()[-1] if stderr else "no port printed"
            raise PackError(f"{self.pack_dir}: policy pack did not start: {last}") from None

    # -------------------------------------------------------------- the engine's calls
    def handshake(self) -> None:
        """Newer engines open with Handshake; the Python SDK does not implement it and the
        engine then carries on, as we do."""
        try:
            self.stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=NO_ENGINE, root_directory=str(self.pack_dir), program_directory=str(self.pack_dir)))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def plugin_version(self) -> str:
        return self.stub.GetPluginInfo(empty_pb2.Empty()).version

    def configure(self, policy_config: dict[str, dict[str, Any]]) -> None:
        """``policy_config``: policy name -> {"enforcementLevel": ..., other properties}."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, values in policy_config.items():
            properties = struct_pb2.Struct()
            properties.update({k: v for k, v in values.items() if k != "enforcementLevel"})
            request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                enforcementLevel=LEVELS[values.get("enforcementLevel", "advisory")], properties=properties))
        self.stub.Configure(request)

    def configure_stack(self, stack: str, project: str, config: dict[str, str], tags: dict[str, str]) -> None:
        self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=True, config=config, tags=tags))

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.Analyze(request)

    def analyze_many(self, requests: Iterable[analyzer_pb2.AnalyzeRequest], window: int = 32,
                     method: str = "Analyze") -> Iterable[Any]:
        """Call ``method`` (Analyze or Remediate) for each request, answers in order, keeping up
        to ``window`` calls in flight.

        The engine also analyses resources concurrently (one call per resource step, steps
        run in parallel); the pack's gRPC server handles calls on a thread pool.
        """
        call = getattr(self.stub, method)
        pending: list = []
        for request in requests:
            pending.append(call.future(request))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()

    def analyze_stack(self, resources: Iterable[analyzer_pb2.AnalyzerResource]) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=list(resources)))

    def analyze_stack_async(self, resources: Iterable[analyzer_pb2.AnalyzerResource]):
        """AnalyzeStack started now, answered by ``.result()`` (overlaps the Analyze calls)."""
        return self.stub.AnalyzeStack.future(analyzer_pb2.AnalyzeStackRequest(resources=list(resources)))

    # -------------------------------------------------------------- lifetime
    def close(self) -> None:
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> "PackServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class PackPool:
    """Several processes of the same pack, for large plans on machines with several cores.

    Each process is launched and configured exactly like one :class:`PackServer`. With two
    or more, AnalyzeStack goes to the last one and the Remediate/Analyze calls are spread
    over the others (the engine, too, analyses resource steps concurrently), so the stack
    call runs in parallel with them instead of competing for one interpreter's GIL. The
    pack is stateless between calls apart from its configuration, which every process
    receives, so results equal a single process's.
    """

    def __init__(self, workers: int = 2, **kwargs: Any):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            started = [pool.submit(PackServer, **kwargs) for _ in range(max(1, workers))]
        self.servers = []
        errors = []
        for future in started:
            try:
                self.servers.append(future.result())
            except PackError as exc:
                errors.append(exc)
        if errors:
            self.close()
            raise errors[0]

    def handshake(self) -> None:
        for server in self.servers:
            server.handshake()

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.servers[0].info()

    def configure(self, policy_config: dict[str, dict[str, Any]]) -> None:
        for server in self.servers:
            server.configure(policy_config)

    def configure_stack(self, *args: Any) -> None:
        for server in self.servers:
            server.configure_stack(*args)

    def analyze_many(self, requests: Iterable[analyzer_pb2.AnalyzeRequest], window: int = 32,
                     method: str = "Analyze") -> Iterable[Any]:
        pending: list = []
        servers = self.servers[:-1] if self.stack_has_own_process else self.servers
        count = len(servers)
        for index, request in enumerate(requests):
            pending.append(getattr(servers[index % count].stub, method).future(request))
            if len(pending) >= window * count:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()

    @property
    def stack_has_own_process(self) -> bool:
        return len(self.servers) > 1

    def analyze_stack(self, resources: Iterable[analyzer_pb2.AnalyzerResource]) -> analyzer_pb2.AnalyzeResponse:
        return self.servers[-1].analyze_stack(resources)

    def analyze_stack_async(self, resources: Iterable[analyzer_pb2.AnalyzerResource]):
        return self.servers[-1].analyze_stack_async(resources)

    def close(self) -> None:
        for server in self.servers:
            server.close()

    def __enter__(self) -> "PackPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["PackPool", "PackServer", "PackError", "LEVELS", "LEVEL_NAMES"]
