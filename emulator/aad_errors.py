"""Azure AD token-endpoint errors: one class per AADSTS code (Microsoft Entra authentication and authorization
error codes; texts as in public error reports).

Rendered once, by ``apis.aad``, as ``{"error", "error_description", "error_codes", "timestamp",
"trace_id", "correlation_id", "error_uri"}`` with the class's HTTP status.
"""
from __future__ import annotations

from .limits import short


class AadError(Exception):
    status = 400
    error = "invalid_request"
    code: int | None = 0  # None: an error of adfemu's own, without an AADSTS number
    template = ""

    plain: str | None = None  # a plain-text body instead of the JSON error document

    def __init__(self, *args: object):
        text = self.template.format(*(short(a) for a in args))  # echoed values are cut to a short prefix
        self.description = f"AADSTS{self.code}: {text}" if self.code else text
        super().__init__(self.description)


class TenantNotFound(AadError):
    status, error, code = 400, "invalid_request", 90002
    template = ("Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the "
                "correct cloud. Check with your subscription administrator, this may happen if there are no active "
                "subscriptions for the tenant.")


class MissingParameter(AadError):
    status, error, code = 400, "invalid_request", 900144
    template = "The request body must contain the following parameter: '{0}'."


class UnsupportedGrantType(AadError):
    status, error, code = 400, "unsupported_grant_type", 70003
    template = "The app requested an unsupported grant type '{0}'."  # (inferred wording)


class UnknownClient(AadError):
    status, error, code = 400, "unauthorized_client", 700016
    template = ("Application with identifier '{0}' was not found in the directory '{1}'. This can happen if the "
                "application has not been installed by the administrator of the tenant or consented to by any user "
                "in the tenant. You may have sent your authentication request to the wrong tenant.")


class MissingSecret(AadError):
    status, error, code = 401, "invalid_client", 7000216
    template = "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."


class InvalidClientSecret(AadError):
    status, error, code = 401, "invalid_client", 7000215
    template = ("Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                "value, not the client secret ID, for a secret added to app '{0}'.")


class ExpiredClientSecret(AadError):
    status, error, code = 401, "invalid_client", 7000222
    template = "The provided client secret keys for app '{0}' are expired."


class UnknownResource(AadError):
    status, error, code = 400, "invalid_resource", 500011
    template = ("The resource principal named {0} was not found in the tenant named {1}. This can happen if the "
                "application has not been installed by the administrator of the tenant or consented to by any user "
                "in the tenant. You might have sent your authentication request to the wrong tenant.")


class InvalidScope(AadError):
    status, error, code = 400, "invalid_scope", 1002012
    template = ("The provided value for scope {0} is not valid. Client credential flows must have a scope value "
                "with /.default suffixed to the resource identifier (application ID URI).")


class RequestTooLarge(AadError):
    """(inferred) Azure AD's answer to an oversized body is not documented: no AADSTS number."""
    status, error, code = 413, "invalid_request", None
    template = "The request body has {0} bytes; at most {1} bytes are accepted."


class PostOnly(AadError):
    status, error, code = 405, "invalid_request", 900561
    template = "The endpoint only accepts POST, OPTIONS requests. Received a {0} request."


# --- throttling and outages (what fault injection answers with; emulator/faults.py) ---------------------

class Throttled(AadError):
    """For the client-credentials grant Azure AD answers 429 with ``Retry-After`` and the plain text "Too Many
    Requests" (MSAL.NET docs "Client and server throttling"; AzureAD/microsoft-authentication-library-for-dotnet#2855)."""
    status, error, code = 429, "temporarily_unavailable", 0
    template = "{0}"
    plain = "Too Many Requests"


class TemporarilyUnavailable(AadError):
    """(inferred) RFC 6749's ``temporarily_unavailable``; Azure AD's AADSTS number for it is not documented."""
    status, error, code = 503, "temporarily_unavailable", 0
    template = "{0}"


class ServerError(AadError):
    """(inferred) RFC 6749's ``server_error``; Azure AD's AADSTS number for it is not documented."""
    status, error, code = 500, "server_error", 0
    template = "{0}"
