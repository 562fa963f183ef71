"""Who clicked: link-preview fetchers and known bots (not counted), and the visitor of a click as a keyed
hash (repeat clicks within the hour count once) — never the raw IP address or User-Agent.

Bots and preview fetchers are recognised by a token in the User-Agent, case-insensitive. The list is
short on purpose (a false positive loses a real click): the preview fetchers of the chat and social apps
promoters share to, search crawlers, and generic HTTP clients. The in-app browsers of WeChat
(``MicroMessenger``), Weibo and Douyin (``aweme``) are real visitors and are counted; those apps' server-side
crawlers announce themselves with the generic ``spider``/``bot`` tokens (``Bytespider``, ``Sogou web spider``).
A request without a User-Agent is counted (a visitor still needs one hash; nothing says it is a bot)."""

from __future__ import annotations

import hashlib
import hmac
import re

PREVIEW_FETCHERS = (
    "facebookexternalhit",  # Facebook, Messenger, Instagram link previews
    "facebot",
    "meta-externalagent",
    "twitterbot",  # X/Twitter cards
    "slackbot",  # Slack unfurls (Slackbot-LinkExpanding)
    "slack-imgproxy",
    "whatsapp",  # WhatsApp previews ("WhatsApp/2.x"): the app opens links in the system browser
    "telegrambot",  # Telegram previews
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "weibobot",  # Weibo card fetcher
    "bytespider",  # ByteDance (Douyin, Toutiao) crawler
)
"""Link-preview fetchers: a share pasted into a chat or feed makes the app fetch the URL once."""

GENERIC_BOTS = (
    r"bot\b",  # Googlebot, bingbot, YandexBot, AhrefsBot, ...
    "crawler",
    "spider",  # Baiduspider, Sogou web spider, 360Spider, YisouSpider
    "slurp",
    "headlesschrome",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "okhttp/",
    "libwww-perl",
    "java/",
)
"""Search crawlers and curl-like HTTP clients (scripts, uptime checks, link checkers)."""

_NOT_COUNTED = re.compile("|".join([*map(re.escape, PREVIEW_FETCHERS), *GENERIC_BOTS]), re.IGNORECASE)

VISITOR_HEX_CHARS = 32
"""128 bits of the HMAC-SHA256: collisions between two visitors of one link are negligible."""


def is_bot(user_agent: str | None) -> bool:
    """True for a link-preview fetcher or a known bot: redirected, never recorded nor counted."""
    return bool(user_agent) and _NOT_COUNTED.search(user_agent or "") is not None


def visitor(key: bytes, source_ip: str | None, user_agent: str | None) -> str:
    """The visitor of a click: HMAC-SHA256 keyed with the deployment secret over the source IP and the
    User-Agent, truncated. Not reversible without the key (so the IP cannot be recovered by hashing all 2³²
    IPv4 addresses), stable for one device and network, and changed for everyone by rotating the key."""
    message = f"{source_ip or ''}\n{user_agent or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:VISITOR_HEX_CHARS]
