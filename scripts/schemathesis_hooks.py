"""Schemathesis hooks for Ilot: the sealed envelopes of /v1/push and /v1/pull are opaque bytes
(application/vnd.ilot.sealed); send whatever bytes were generated as they are, so that the
server's refusal of garbage (a clear 4xx, never a 5xx) is exercised too."""
import schemathesis


@schemathesis.serializer("application/vnd.ilot.sealed")
def sealed(ctx, value):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if value is None:
        return b""
    return bytes(value)
