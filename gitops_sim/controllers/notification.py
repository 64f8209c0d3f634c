"""notification-controller: events out to Alerts' Providers, webhooks in through Receivers.

Provenance: behaviour of notification-controller internal/server (event_server.go,
event_handlers.go, receiver_server.go, receiver_handlers.go), internal/notifier (the clients'
retries) and internal/controller/receiver_controller.go; the rules themselves are the
`gitops_sim.notification` libraries (routing, providers, receivers). Our own code.

The event server (`EventServer`): every controller's events reach it as Flux's recorders post
them (the engine's `forward_events`; traces never do). For each event it applies the duplicate
rate limit (one event per key in 5 minutes, `routing.event_key`), cleans the metadata, finds the
Alerts (`routing.alerts_for`: sources, severity, inclusion and exclusion), and for each the
Provider's decision (`routing.notification_for`); a send is built by `notification.providers` and
delivered over real HTTP through the simulation's sinks (`sources.webhooks`): a sink the
scenario declared under the Provider's URL, or any server on 127.0.0.1. A failure is recorded on
the Alert as Flux records it (`NotificationDispatchFailed` "failed to send notification for
<Kind>/<ns>/<name>: …", tokens masked), and never stops the engine. Each delivery is on the trace
(`notification`: the sink, the object, severity and message).

The Receiver controller (kernel kind): the token from `spec.secretRef`, the terminal spec checks,
`status.webhookPath` (`/hook/` + sha256 of token, name and namespace) and Ready "Receiver
initialized for path: …", requeued at `spec.interval`, re-run when its Secret changes. The receiver
server (the engine's `inbound`, on 127.0.0.1) finds the Receiver by that path, checks the request
as the type's service signs it (`receivers.validate`), and annotates the resources it selects with
`reconcile.fluxcd.io/requestedAt`, so they reconcile at once; the answer is Flux's status code.

Differences, on purpose: deliveries happen at the event's virtual instant, synchronously (Flux
posts from a goroutine), and a client's retries follow at once in virtual time (their real
backoff, 2s doubling, is not waited); a sink that hangs fails the attempt as the Provider's timeout
would, at once (`sources.loopback`).
The annotation's value is Go's `time.Time.String()` of the virtual clock, without the monotonic
reading. Alerts and Providers have no status (as in Flux since v1beta3): Alerts are kept by a
watch (the cached client Flux lists them from) and indexed by the objects their sources name;
a Provider is read when a notification goes out.

Callers: the engine (the registry entry at the bottom). Never imports another controller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from gitops_sim.cluster import errors, selectors
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import notification as api
from gitops_sim.notification import event as ev
from gitops_sim.notification import providers, receivers, routing
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import webhooks
from gitops_sim.timing import workqueue

CONTROLLER = "notification-controller"
GROUP = flux.NOTIFICATION_GROUP


def _secret_bytes(cluster: Any, namespace: str, name: str) -> dict[str, bytes] | None:
    """A Secret's data as bytes, None when it does not exist."""
    try:
        secret = cluster.get(refs.ObjectRef("", "Secret", namespace, name))
    except errors.NotFound:
        return None
    return {k: v.encode() for k, v in objects.secret_data(secret).items()}


class EventServer:
    """notification-controller's event server, fed by the engine (see the module docstring)."""

    def __init__(self, rt: base.Runtime, sinks: webhooks.Sinks) -> None:
        self.rt = rt
        self.sinks = sinks
        self.limiter = routing.RateLimiter()
        self._alerts: dict[tuple[str, str], routing.Alert] = {}
        """Every Alert, parsed once per change (an informer's cache, kept by `on_alert`)."""
        self._by_source: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
        """(kind, namespace, name or `*`) an Alert's eventSources name -> those Alerts."""

    def on_alert(self, old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
        """The watch on Alerts: keep the cache and its index (nothing to reconcile)."""
        for gone in (old, new):
            if gone is not None:
                key = (gone["metadata"]["namespace"], gone["metadata"]["name"])
                previous = self._alerts.pop(key, None)
                if previous is not None:
                    for source in self._sources(previous):
                        self._by_source.get(source, set()).discard(key)
        if new is not None and not new["metadata"].get("deletionTimestamp"):
            meta = new["metadata"]
            try:
                alert = routing.Alert(
                    meta["namespace"], meta["name"], declare.parse(api.AlertSpec, new.get("spec") or {})
                )
            except (declare.ParseError, ValueError, TypeError):
                return []
            key = (alert.namespace, alert.name)
            self._alerts[key] = alert
            for source in self._sources(alert):
                self._by_source.setdefault(source, set()).add(key)
        return []

    @staticmethod
    def _sources(alert: routing.Alert) -> set[tuple[str, str, str]]:
        return {(s.kind, s.namespace or alert.namespace, s.name) for s in alert.spec.event_sources}

    def receive(self, event: ev.Event) -> None:
        if not self.limiter.allow(routing.event_key(event), self.rt.clock.now()):
            return  # 429: a duplicate within the rate-limit interval
        obj = event.involved_object
        keys = self._by_source.get((obj.kind, obj.namespace, obj.name), set()) | self._by_source.get(
            (obj.kind, obj.namespace, "*"), set()
        )
        if not keys:
            return  # no Alert names this object (or `*` of its kind) in its namespace: none can match
        event = routing.cleanup(event)
        alerts = [self._alerts[key] for key in sorted(keys)]  # the API lists them in this order
        routed = routing.alerts_for(event, alerts, self._labels_of)
        self._record(routed.events)
        for alert in routed.matches:
            provider = self._provider(alert)
            decision = routing.notification_for(event, alert, provider)
            self._record(decision.events)
            if decision.outcome == "send" and decision.event is not None and provider is not None:
                error = self._send(provider, decision)
                if error is not None:
                    message = providers.dispatch_error(event, error)
                    self._record(
                        (routing.AlertEvent.on(alert, routing.NOTIFICATION_DISPATCH_FAILED, message),)
                    )

    def _labels_of(self, ref: ev.ObjectReference) -> Mapping[str, str] | None:
        group, _, _ = ref.api_version.rpartition("/")
        try:
            obj = self.rt.cluster.get(refs.ObjectRef(group, ref.kind, ref.namespace, ref.name))
        except errors.ApiError:
            return None
        return objects.labels_of(obj)

    def _provider(self, alert: routing.Alert) -> routing.Provider | None:
        try:
            raw = self.rt.cluster.get(
                refs.ObjectRef(GROUP, "Provider", alert.namespace, alert.spec.provider_ref.name)
            )
        except errors.NotFound:
            return None
        meta = raw["metadata"]
        spec = declare.parse(api.ProviderSpec, raw.get("spec") or {})
        return routing.Provider(meta["namespace"], meta["name"], str(meta.get("uid", "")), spec)

    def _record(self, events: Sequence[routing.AlertEvent]) -> None:
        for event in events:
            try:
                obj = self.rt.cluster.get(refs.ObjectRef(GROUP, "Alert", event.namespace, event.name))
            except errors.NotFound:
                continue
            self.rt.recorder.event(
                obj,
                type=base.EventType.WARNING,
                reason=event.reason,
                message=event.message,
                controller=CONTROLLER,
                metadata=dict(event.annotations) or None,
            )

    def _send(self, provider: routing.Provider, decision: routing.Decision) -> str | None:
        """Build and deliver the notification; Flux's error text (tokens masked) or None."""
        assert decision.event is not None
        spec = provider.spec
        secret = None
        if spec.secret_ref is not None:
            secret = _secret_bytes(self.rt.cluster, provider.namespace, spec.secret_ref.name)
            if secret is None:
                return (
                    f"failed to initialize notifier for provider '{provider.name}': failed to read secret: "
                    f'secrets "{spec.secret_ref.name}" not found'
                )
        try:
            options = providers.settings(spec, secret)
            providers.validate(spec.type, options, commit_status=decision.commit_status)
        except providers.ProviderError as exc:
            prefix = f"failed to initialize notifier for provider '{provider.name}'"
            return f"{prefix}: failed to initialize notifier: {exc}"
        try:
            requests = providers.requests(
                spec.type, options, decision.event, commit_status=decision.commit_status
            )
        except providers.ProviderError as exc:
            return str(exc)
        timeout_s = (duration.parse(spec.timeout) if spec.timeout else providers.DEFAULT_TIMEOUT_MS) / 1000
        listed: bytes | None = None
        for request in requests:
            if request.step == "create" and listed is not None and providers.duplicate(request, listed):
                continue
            answer, error = self._deliver(request, timeout_s)
            if error is not None:
                return error
            assert answer is not None
            if request.step == "list":
                listed = answer.body
        if requests:
            netloc = urlsplit(requests[-1].url).netloc
            self.rt.recorder.record(
                "notification",
                sink=self.sinks.by_host.get(netloc, netloc),
                object=routing.involved_object_string(decision.event),
                provider=spec.type,
                severity=decision.event.severity,
                reason=decision.event.reason,
                message=decision.event.message,
            )
        return None

    def _deliver(
        self, request: providers.HttpRequest, timeout_s: float
    ) -> tuple[webhooks.Answer | None, str | None]:
        """One request with its client's retries (made at once: see the module docstring)."""
        attempts = providers.RETRY_POLICIES[request.client].retries + 1
        cause = ""
        for _ in range(attempts):
            try:
                answer = self.sinks.post(
                    request.url, dict(request.headers), request.body, timeout_s, method=request.method
                )
            except webhooks.DeliveryError as exc:
                cause = str(exc)
                if not providers.should_retry(request, None):
                    return None, providers.mask_token(cause, request.mask)
                continue
            if providers.is_success(request, answer.status, answer.body):
                return answer, None
            if not providers.should_retry(request, answer.status):
                return None, providers.failure_message(request, answer.status, answer.body)
            cause = ""
        return None, providers.gave_up_message(request, attempts, cause)


@dataclass(slots=True)
class _Work:
    interval_ms: int


class _ReceiverSummary:
    """receiver_controller.go's deferred patch and events (see the module docstring)."""

    def succeeded(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any]
    ) -> base.Result:
        conditions.delete(ctx.obj, conditions.RECONCILING)
        ctx.status["observedGeneration"] = ctx.generation
        self._handled(ctx)
        ctx.patch_status()
        interval = ctx.work.interval_ms
        reconciler.event(
            ctx.obj,
            base.EventType.NORMAL,
            conditions.Reason.SUCCEEDED,
            f"Reconciliation finished, next run in {duration.format(interval)}",
        )
        return base.Result(requeue_after=interval)

    def failed(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any], exc: kernel.StepError
    ) -> base.Result:
        self._handled(ctx)
        if isinstance(exc, kernel.Stalling):
            ctx.status["observedGeneration"] = ctx.generation
            ctx.patch_status()
            reconciler.event(ctx.obj, base.EventType.WARNING, exc.reason, exc.message)
            return base.Result()
        reconciling = conditions.get(ctx.obj, conditions.RECONCILING)
        if reconciling is not None:
            reconciling["reason"] = conditions.Reason.PROGRESSING_WITH_RETRY
        ctx.patch_status()
        reconciler.event(ctx.obj, base.EventType.WARNING, conditions.Reason.FAILED, exc.message)
        raise workqueue.RequeueError(exc.message) from exc

    @staticmethod
    def _handled(ctx: kernel.Context[Any, Any]) -> None:
        requested = objects.annotations_of(ctx.obj).get(flux.REQUESTED_AT_ANNOTATION)
        if requested:
            ctx.status["lastHandledReconcileAt"] = requested


@dataclass(slots=True)
class _Receivers:
    rt: base.Runtime

    def kind(self) -> kernel.Kind[api.ReceiverSpec, None]:
        return kernel.Kind(
            flux.RECEIVER,
            api.ReceiverSpec,
            CONTROLLER,
            steps=(self.reconcile,),
            interval_ms=lambda spec: duration.parse(spec.interval),
            finalize=lambda rt, obj, state: None,
            summary=_ReceiverSummary(),
            new_state=lambda: None,
        )

    def watches(self) -> tuple[base.Watch, ...]:
        def from_secret(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            changed = new or old
            if changed is None:
                return []
            namespace, name = changed["metadata"].get("namespace"), changed["metadata"]["name"]
            return [
                objects.ref_of(r)
                for r in self.rt.cluster.list(flux.RECEIVER.group_kind, namespace=namespace)
                if ((r.get("spec") or {}).get("secretRef") or {}).get("name") == name
            ]

        return (base.Watch(refs.GroupKind("", "Secret"), from_secret),)

    def reconcile(self, ctx: kernel.Context[api.ReceiverSpec, None]) -> None:
        spec, obj, now = ctx.spec, ctx.obj, ctx.now
        ctx.work = _Work(duration.parse(spec.interval))
        problem = receivers.check_spec(spec)
        if problem is not None:
            conditions.mark_false(obj, conditions.READY, problem.reason, problem.message, now=now)
            conditions.mark_stalled(obj, problem.reason, problem.message, now=now)
            raise kernel.Stalling(problem.reason, problem.message)
        conditions.mark_reconciling(obj, conditions.Reason.PROGRESSING, "Reconciliation in progress", now=now)
        meta = obj["metadata"]
        secret_name = spec.secret_ref.name if spec.secret_ref is not None else ""
        try:
            token = receivers.token_of(
                _secret_bytes(self.rt.cluster, meta["namespace"], secret_name), meta["namespace"], secret_name
            )
        except receivers.TokenNotFound as exc:
            conditions.mark_false(obj, conditions.READY, receivers.TokenNotFound.reason, str(exc), now=now)
            ctx.status.pop("webhookPath", None)
            raise kernel.StepError(receivers.TokenNotFound.reason, str(exc)) from exc
        path = receivers.webhook_path(token, meta["name"], meta["namespace"])
        conditions.mark_true(
            obj, conditions.READY, conditions.Reason.SUCCEEDED, receivers.ready_message(path), now=now
        )
        ctx.status["webhookPath"] = path


class ReceiverServer:
    """The receiver server's handler, installed on the engine's inbound server."""

    def __init__(self, rt: base.Runtime) -> None:
        self.rt = rt

    def handle(self, raw: webhooks.Request) -> webhooks.Answer:
        request = receivers.Request.of(
            raw.method, raw.path, {k: v for k, v in reversed(raw.headers)}, raw.body
        )
        if raw.too_large:  # over the inbound server's own limit, above Flux's: refused unread
            return webhooks.Answer(413, b"")
        admitted = receivers.admit(request)
        if admitted is not None:
            return webhooks.Answer(admitted.status, admitted.body)
        found, receiver = self._find(request.path)
        spec = declare.parse(api.ReceiverSpec, (receiver or {}).get("spec") or {}) if receiver else None
        secret = None
        if receiver is not None and spec is not None and spec.secret_ref is not None:
            secret = _secret_bytes(self.rt.cluster, receiver["metadata"]["namespace"], spec.secret_ref.name)
        outcome = receivers.validate(
            spec.type if spec is not None else "",
            spec
            if spec is not None
            else declare.parse(api.ReceiverSpec, {"type": "generic", "resources": []}),
            secret,
            request,
            receiver=found,
        )
        if not outcome.accepted or receiver is None or spec is None:
            return webhooks.Answer(outcome.status, outcome.body)
        plan = receivers.resources_to_annotate(
            spec, self._lister, namespace=receiver["metadata"]["namespace"], request=request
        )
        if plan.error:
            return webhooks.Answer(500, b"")
        annotation = receivers.request_annotation(
            duration.rfc3339_nano(self.rt.clock.epoch_ms + self.rt.clock.now())
        )
        failed = False
        for target in plan.targets:
            group = target.api_version.rpartition("/")[0]
            try:
                self.rt.cluster.merge_patch(
                    refs.ObjectRef(group, target.kind, target.namespace, target.name),
                    {"metadata": {"annotations": annotation}},
                    field_manager=CONTROLLER,
                )
            except errors.ApiError:
                failed = True
        return webhooks.Answer(500 if failed else plan.status, b"")

    def _find(self, path: str) -> tuple[receivers.Found | None, objects.RawObject | None]:
        for receiver in self.rt.cluster.list(flux.RECEIVER.group_kind):
            status = receiver.get("status") or {}
            if status.get("webhookPath") and status.get("webhookPath") == path:
                meta = receiver["metadata"]
                ready = conditions.is_true(receiver, conditions.READY)
                return receivers.Found(
                    meta["namespace"], meta["name"], status["webhookPath"], ready
                ), receiver
        return None, None

    def _lister(
        self, kind: str, namespace: str, name: str, match_labels: Mapping[str, str] | None
    ) -> Sequence[Mapping[str, Any]]:
        info = next((k for k in self.rt.cluster.kinds_named(kind)), None)
        if info is None:
            raise receivers.ListError(f'no matches for kind "{kind}"')
        gk = info.gvk.group_kind
        if name != "*":
            try:
                return [self.rt.cluster.get(refs.ObjectRef(gk.group, gk.kind, namespace, name))]
            except errors.NotFound:
                return []
        selector = selectors.from_label_selector({"matchLabels": dict(match_labels or {})})
        return [
            o for o in self.rt.cluster.list(gk, namespace=namespace) if selectors.labels_match(selector, o)
        ]


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def sinks(self) -> webhooks.Sinks: ...
    @property
    def inbound(self) -> webhooks.Inbound: ...
    def forward_events(self, sink: Any) -> None: ...


def _build(services: _Services) -> base.Reconciler:
    rt = services.runtime
    server = EventServer(rt, services.sinks)
    services.forward_events(server.receive)
    services.inbound.install(ReceiverServer(rt).handle)
    steps = _Receivers(rt)
    return kernel.Reconciler(
        rt, steps.kind(), (*steps.watches(), base.Watch(flux.ALERT.group_kind, server.on_alert))
    )


registry.register(
    registry.Entry(
        "receiver", flux.RECEIVER.group_kind, _build, order=90, component="notification-controller"
    )
)
