"""Verifies a result-gateway webhook (Standard Webhooks) with the standard library only.

    from verify_webhook import verify
    verify(secret, headers, body)   # raises ValueError unless a v1 signature matches and the timestamp is fresh

Run as a script it reads {"secret", "headers", "body"} as JSON on stdin and prints "valid" (exit 0) or the
reason (exit 1): test/integration/webhooks.test.ts checks every delivery's signature with it.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_SECONDS = 5 * 60


def verify(secret, headers, body, now=None):
    """secret: 'whsec_…'; headers: a dict with lower-case names; body: the raw request body (str or bytes)."""
    msg_id = headers['webhook-id']
    timestamp = headers['webhook-timestamp']
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError('timestamp outside the tolerance (replayed or clock skew)')
    key = base64.b64decode(secret.removeprefix('whsec_'))
    if isinstance(body, str):
        body = body.encode()
    signed = msg_id.encode() + b'.' + timestamp.encode() + b'.' + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in headers['webhook-signature'].split(' '):
        version, _, signature = entry.partition(',')
        if version == 'v1' and hmac.compare_digest(signature, expected):
            return True
    raise ValueError('no matching v1 signature')


if __name__ == '__main__':
    request = json.load(sys.stdin)
    try:
        verify(request['secret'], request['headers'], request['body'])
    except (ValueError, KeyError) as err:
        print(f'invalid: {err}')
        sys.exit(1)
    print('valid')
