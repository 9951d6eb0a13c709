"""The connector processes: ``python -m connectors x | facebook | facebook-webhook | instagram |
instagram-webhook | replay | actions | forward``
(``civicwatch connect ...`` in the CLI).

Each runs until SIGTERM or Ctrl-C. A missing or rejected token stops start-up with exit code 2 and
a message naming the variable. Settings: ``runtime/settings.py`` (``XSettings``, ``FacebookSettings``,
``ConnectorSettings``); tokens: environment or ``CIVICWATCH_SECRETS_FILE`` (``connectors/secrets.py``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from connectors.facebook import WebhookReceiver
    from runtime.settings import FacebookSettings, InstagramSettings
    from runtime.sink import Sink


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _fail_cleanly(command: str, body: Callable[[], None]) -> None:
    """Start-up errors become one line naming the problem (and never the token's value)."""
    from connectors.core import ConnectorError

    try:
        body()
    except ConnectorError as exc:
        typer.echo(f"civicwatch connect {command}: {exc.reason}", err=True)
        raise typer.Exit(2) from None


def _sink(name: str) -> Any:
    from runtime.settings import Settings
    from runtime.sink import KafkaSink

    settings = Settings.from_env()
    return KafkaSink(
        settings.bootstrap_servers,
        settings.topic_prefix,
        transactional_id=f"{settings.topic_prefix}civicwatch-{name}",
        client_id=f"civicwatch-{name}",
    )


def webhook_receiver(
    settings: FacebookSettings | InstagramSettings, sink: Sink, app_secret: str, verify_token: str
) -> WebhookReceiver:
    """The receiver a webhook command serves: its platform's account, delivery mapping and limits."""
    from connectors.facebook import WebhookReceiver
    from connectors.facebook.webhook import Deliveries, delivery_batch
    from connectors.instagram import comments_delivery
    from runtime.settings import InstagramSettings

    deliveries: Deliveries
    if isinstance(settings, InstagramSettings):
        account, deliveries = settings.ig_user_id, comments_delivery
    else:
        account, deliveries = settings.page_id, delivery_batch
    return WebhookReceiver(
        sink,
        account,
        app_secret,
        verify_token,
        timeout=settings.webhook_timeout,
        max_threads=settings.webhook_max_threads,
        max_age=settings.webhook_max_age,
        deliveries=deliveries,
        name=_webhook_name(settings),
    )


def _webhook_name(settings: FacebookSettings | InstagramSettings) -> str:
    from runtime.settings import InstagramSettings

    return "instagram-webhook" if isinstance(settings, InstagramSettings) else "facebook-webhook"


def _serve_webhook(settings: FacebookSettings | InstagramSettings, host: str | None, port: int | None) -> None:
    """Serve signed deliveries until SIGTERM/SIGINT; the app secret and verify token come from the secrets."""
    from connectors import metrics
    from connectors.secrets import Secrets
    from runtime.settings import ConnectorSettings

    secrets = Secrets()
    app_secret = secrets.require("FACEBOOK_APP_SECRET")
    verify_token = secrets.require("FACEBOOK_VERIFY_TOKEN")
    metrics.serve(ConnectorSettings.from_env().metrics_port)
    receiver = webhook_receiver(settings, _sink(_webhook_name(settings)), app_secret, verify_token)
    server = receiver.server(host or settings.webhook_host, port if port is not None else settings.webhook_port)
    stop = _stop_on_signals()

    def shutdown_on_stop() -> None:
        stop.wait()
        server.shutdown()

    threading.Thread(target=shutdown_on_stop, daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    typer.echo(f"listening on {bound_host!s}:{bound_port}", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        receiver.sink.close()


def _run(connector: Any, stop: threading.Event) -> None:
    from connectors import metrics
    from connectors.core import Backoff, SystemClock
    from connectors.runner import KafkaCheckpointStore, Runner
    from runtime.settings import ConnectorSettings, Settings

    settings = Settings.from_env()
    common = ConnectorSettings.from_env()
    metrics.serve(common.metrics_port)
    sink = _sink(connector.name)
    try:
        runner = Runner(
            connector,
            sink,
            KafkaCheckpointStore(settings.bootstrap_servers, settings.topic_prefix),
            SystemClock(stop),
            backoff=Backoff(common.backoff_base, common.backoff_cap),
            stop=stop,
        )
        runner.start()
        stats = runner.run()
        typer.echo(f"stopped: {stats.comments} comments, {stats.posts} posts, {stats.dead_lettered} dead-lettered")
    finally:
        sink.close()


app = typer.Typer(
    help="Bring comments into Kafka and carry moderation actions back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("x")
def connect_x(loglevel: str = typer.Option("info", help="Log level.")) -> None:
    """Poll X for the city's posts, replies in their conversations, and mentions."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)
    stop = _stop_on_signals()

    def body() -> None:
        from connectors.core import ConnectorError, SystemClock
        from connectors.secrets import Secrets
        from connectors.x import XApi, XConnector, XStream, make_client
        from runtime.settings import XSettings

        settings = XSettings.from_env()
        if settings.stream not in ("off", "auto"):
            raise ConnectorError(f"CIVICWATCH_X_STREAM is {settings.stream!r}; use off or auto")
        clock = SystemClock(stop)
        secrets = Secrets()
        api = XApi(make_client(secrets), clock)
        stream = XStream(secrets.require("X_BEARER_TOKEN"), clock) if settings.stream == "auto" else None
        try:
            _run(XConnector(api, settings, clock, stream=stream), stop)
        finally:
            if stream is not None:
                stream.close()

    _fail_cleanly("x", body)


@app.command("facebook")
def connect_facebook(loglevel: str = typer.Option("info", help="Log level.")) -> None:
    """Poll the city's Facebook Page for posts, comments and replies."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)
    stop = _stop_on_signals()

    def body() -> None:
        from connectors.core import SystemClock
        from connectors.facebook import FacebookConnector
        from runtime.settings import FacebookSettings

        clock = SystemClock(stop)
        settings = FacebookSettings.from_env()
        _run(FacebookConnector(_graph(settings, clock), settings, clock), stop)

    _fail_cleanly("facebook", body)


@app.command("facebook-webhook")
def connect_facebook_webhook(
    host: str | None = typer.Option(None, help="Bind address (default CIVICWATCH_FACEBOOK_WEBHOOK_HOST)."),
    port: int | None = typer.Option(None, help="Port (default CIVICWATCH_FACEBOOK_WEBHOOK_PORT)."),
    loglevel: str = typer.Option("info", help="Log level."),
) -> None:
    """Receive the Page's real-time feed changes (verify-token handshake, signed deliveries)."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)

    def body() -> None:
        from connectors.core import ConnectorError
        from runtime.settings import FacebookSettings

        settings = FacebookSettings.from_env()
        if not settings.page_id:
            raise ConnectorError("CIVICWATCH_FACEBOOK_PAGE_ID is empty: name the city's Page id")
        _serve_webhook(settings, host, port)

    _fail_cleanly("facebook-webhook", body)


@app.command("instagram")
def connect_instagram(loglevel: str = typer.Option("info", help="Log level.")) -> None:
    """Poll the city's Instagram media for comments and replies (Graph API, Facebook Login)."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)
    stop = _stop_on_signals()

    def body() -> None:
        from connectors.core import SystemClock
        from connectors.instagram import InstagramConnector
        from runtime.settings import InstagramSettings

        clock = SystemClock(stop)
        settings = InstagramSettings.from_env()
        _run(InstagramConnector(_instagram_graph(settings, clock), settings, clock), stop)

    _fail_cleanly("instagram", body)


@app.command("instagram-webhook")
def connect_instagram_webhook(
    host: str | None = typer.Option(None, help="Bind address (default CIVICWATCH_INSTAGRAM_WEBHOOK_HOST)."),
    port: int | None = typer.Option(None, help="Port (default CIVICWATCH_INSTAGRAM_WEBHOOK_PORT)."),
    loglevel: str = typer.Option("info", help="Log level."),
) -> None:
    """Receive the account's real-time ``comments`` changes (verify-token handshake, signed deliveries)."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)

    def body() -> None:
        from connectors.core import ConnectorError
        from runtime.settings import InstagramSettings

        settings = InstagramSettings.from_env()
        if not settings.ig_user_id:
            raise ConnectorError("CIVICWATCH_INSTAGRAM_IG_USER_ID is empty: name the city's Instagram account id")
        _serve_webhook(settings, host, port)

    _fail_cleanly("instagram-webhook", body)


@app.command("replay")
def connect_replay(
    infile: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON Lines of posts and comments."),
    rate: float | None = typer.Option(None, help="Comments per second (default: as fast as possible)."),
    limit: int | None = typer.Option(None, help="Stop after this many lines."),
) -> None:
    """Replay a JSON Lines file into comments.raw and posts (the demo's source)."""
    from connectors.replay import replay_file
    from runtime.settings import Settings
    from runtime.sink import KafkaSink

    settings = Settings.from_env()
    sink = KafkaSink(settings.bootstrap_servers, settings.topic_prefix)
    try:
        stats = replay_file(infile, sink, rate=rate, limit=limit, progress=True)
    finally:
        sink.close()
    typer.echo(f"replayed {stats.posts} posts, {stats.comments} comments, {stats.dead_lettered} dead-lettered")


@app.command("actions")
def connect_actions(
    platform: list[str] = typer.Option(
        ["x", "facebook"],
        "--platform",
        help="Platform(s) whose actions this process carries out (x, facebook, instagram).",
    ),
    loglevel: str = typer.Option("info", help="Log level."),
) -> None:
    """Carry moderation.actions out on the platforms, once per action id, auditing each outcome."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)
    stop = _stop_on_signals()

    def body() -> None:
        from connectors import metrics
        from connectors.actions import STATE_NAME, ActionExecutor, PlatformActions, actions_consumer
        from connectors.core import ConnectorError, SystemClock
        from connectors.runner import KafkaCheckpointStore
        from runtime.settings import ConnectorSettings, FacebookSettings, Settings, XSettings

        unknown = sorted(set(platform) - {"x", "facebook", "instagram"})
        if unknown:
            raise ConnectorError(f"no actions for platform(s) {', '.join(unknown)}; choose x, facebook, instagram")
        settings = Settings.from_env()
        common = ConnectorSettings.from_env()
        clock = SystemClock(stop)
        handlers: dict[str, PlatformActions] = {}
        if "x" in platform:
            from connectors.secrets import Secrets
            from connectors.x import XActions, XApi, make_client

            api = XApi(make_client(Secrets(), user_auth=True), clock, token_variable="X_ACCESS_TOKEN")
            handlers["x"] = XActions(api, XSettings.from_env().action_interval)
        if "facebook" in platform:
            from connectors.facebook import FacebookActions

            fb = FacebookSettings.from_env()
            handlers["facebook"] = FacebookActions(_graph(fb, clock), fb.page_id, fb.action_interval)
        if "instagram" in platform:
            from connectors.instagram import InstagramActions
            from runtime.settings import InstagramSettings

            ig = InstagramSettings.from_env()
            handlers["instagram"] = InstagramActions(_instagram_graph(ig, clock), ig.ig_user_id, ig.action_interval)
        metrics.serve(common.metrics_port)
        sink = _sink("actions-" + "-".join(sorted(handlers)))
        consumer = actions_consumer(settings.bootstrap_servers, settings.topic_prefix, sorted(handlers))
        try:
            executor = ActionExecutor(
                handlers,
                sink,
                consumer,
                clock,
                max_attempts=common.action_max_attempts,
                backoff_base=common.backoff_base,
                backoff_cap=common.backoff_cap,
                stop=stop,
            )
            executor.start(KafkaCheckpointStore(settings.bootstrap_servers, settings.topic_prefix).load(STATE_NAME))
            stats = executor.run()
            typer.echo(f"stopped: outcomes {dict(stats.outcomes)}, {stats.duplicates} duplicate(s) skipped")
        finally:
            consumer.close()
            sink.close()

    _fail_cleanly("actions", body)


@app.command("forward")
def connect_forward(loglevel: str = typer.Option("info", help="Log level.")) -> None:
    """E-mail each council.forward to its contact (clause 5.5) and ask for the acknowledgement reply."""
    from runtime.logs import configure_logging

    configure_logging(loglevel)
    stop = _stop_on_signals()

    def body() -> None:
        from connectors import metrics
        from connectors.core import ConnectorError, SystemClock
        from connectors.forward import (
            STATE_NAME,
            Forwarder,
            KafkaPosts,
            SmtpMailer,
            forward_consumer,
            load_forward_policy,
        )
        from connectors.runner import KafkaCheckpointStore
        from connectors.secrets import Secrets
        from runtime.settings import REPO_ROOT, ConnectorSettings, ForwardSettings, Settings

        settings = Settings.from_env()
        smtp = ForwardSettings.from_env()
        common = ConnectorSettings.from_env()
        if not smtp.sender:
            raise ConnectorError("CIVICWATCH_SMTP_FROM is empty: name the address forwards are sent from")
        policy = load_forward_policy(settings.policy_path or REPO_ROOT / "pipelines" / "policies" / "windsor.yaml")
        secrets = Secrets()
        mailer = SmtpMailer(
            smtp.host,
            smtp.port,
            secrets.get("SMTP_USERNAME"),
            secrets.get("SMTP_PASSWORD"),
            starttls=smtp.starttls,
            context=smtp.ssl_context(),
            timeout=smtp.timeout,
        )
        clock = SystemClock(stop)
        metrics.serve(common.metrics_port)
        sink = _sink("forward")
        consumer = forward_consumer(settings.bootstrap_servers, settings.topic_prefix)
        try:
            forwarder = Forwarder(
                policy,
                mailer,
                sink,
                consumer,
                clock,
                smtp.sender,
                posts=KafkaPosts(settings.bootstrap_servers, settings.topic_prefix),
                max_attempts=common.action_max_attempts,
                backoff_base=common.backoff_base,
                backoff_cap=common.backoff_cap,
                interval=smtp.interval,
                stop=stop,
            )
            forwarder.start(KafkaCheckpointStore(settings.bootstrap_servers, settings.topic_prefix).load(STATE_NAME))
            stats = forwarder.run()
            typer.echo(f"stopped: outcomes {dict(stats.outcomes)}, {stats.duplicates} duplicate(s) skipped")
        finally:
            consumer.close()
            sink.close()

    _fail_cleanly("forward", body)


def _graph(settings: Any, clock: Any) -> Any:
    from connectors.facebook import GraphClient, make_graph
    from connectors.facebook.graph import TOKEN_VARIABLE
    from connectors.secrets import Secrets

    secrets = Secrets()
    graph, session = make_graph(secrets.require(TOKEN_VARIABLE), settings.api_version)
    return GraphClient(
        graph,
        session,
        clock,
        throttle_wait=settings.throttle_wait,
        usage_ceiling=settings.usage_ceiling,
        app_secret=secrets.get("FACEBOOK_APP_SECRET"),  # appsecret_proof whenever the secret is configured
    )


def _instagram_graph(settings: Any, clock: Any) -> Any:
    """The Graph client on the Instagram token (a Page token with instagram_manage_comments)."""
    from connectors.facebook import GraphClient, make_graph
    from connectors.instagram import TOKEN_VARIABLE
    from connectors.secrets import Secrets

    secrets = Secrets()
    graph, session = make_graph(secrets.require(TOKEN_VARIABLE), settings.api_version)
    return GraphClient(
        graph,
        session,
        clock,
        throttle_wait=settings.throttle_wait,
        usage_ceiling=settings.usage_ceiling,
        app_secret=secrets.get("FACEBOOK_APP_SECRET"),
        token_variable=TOKEN_VARIABLE,
    )
