"""The HTTP batch intake of readings: ``POST /sensing/telemetry/`` (docs/sensing.md "Intake").

Called by gateways and devices, never by a page: authenticated by ``Authorization: Bearer <token>``
(a gateway's token posts the gateway shape for its district's devices; a device's token posts its
own telemetry), so CSRF protection — which guards the session cookie — does not apply. Answers JSON:
200 with the batch's report (per-reading errors listed), 401 without or with an unknown token, 403
for a switched-off token, 400 for a body that is not JSON or not one of the shapes, 413 for too many
readings (or too large a body), 415 for another content type, 405 for another method, 503 when the
database does not answer (the gateway should retry: a replayed batch stores nothing twice).
"""

from __future__ import annotations

import json
import logging

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from linli.core.errors import LinliError
from linli.sensing.queries import intake as q
from linli.sensing.services import intake as svc

log = logging.getLogger(__name__)


def _refuse(status: int, code: str, zh: str, en: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"code": code, "zh": zh, "en": en}]}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
def telemetry(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _refuse(
            405, "method_not_allowed", "此地址只接受 POST。", "This address accepts POST only.", Allow="POST"
        )
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _refuse(
            401,
            "no_token",
            "缺少令牌:请在 Authorization: Bearer 中提供网关或设备令牌。",
            "No token: send the gateway's or device's token as Authorization: Bearer.",
            WWW_Authenticate='Bearer realm="linli-sensing"',
        )
    try:
        info = q.token_info(raw)
    except DatabaseError:
        log.warning("sensing intake: database unavailable", exc_info=True)
        return _refuse(503, "unavailable", "服务暂不可用,请稍后重试。", "Unavailable: retry later.", Retry_After="5")
    if info is None:
        return _refuse(
            401,
            "bad_token",
            "令牌无效。",
            "The token is not valid.",
            WWW_Authenticate='Bearer realm="linli-sensing", error="invalid_token"',
        )
    if not info.active:
        return _refuse(403, "token_inactive", "该令牌已停用。", "This token has been switched off.")
    if request.content_type != "application/json":
        return _refuse(415, "bad_content_type", "请以 application/json 发送。", "Send the body as application/json.")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnreadablePostError, RecursionError):
        return _refuse(400, "bad_json", "请求内容不是有效的 JSON。", "The body is not valid JSON.")
    try:
        report = svc.ingest(payload, device_code=info.device_code, district_path=info.district_path, via="http")
        if info.kind == "gateway":
            svc.note_gateway_use(info.pk)
    except LinliError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    except DatabaseError:
        log.warning("sensing intake: database error", exc_info=True)
        return _refuse(503, "unavailable", "服务暂不可用,请稍后重试。", "Unavailable: retry later.", Retry_After="5")
    return JsonResponse(report.as_json())
