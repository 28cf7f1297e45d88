"""Azure Resource Manager errors: one class per ARM error code (codes and messages from Microsoft Learn's
"Troubleshoot common Azure deployment errors" and public error reports; see docs/arm.md).

Rendered once, by ``apis.arm``, as ``{"error": {"code", "message", "target", "details",
"additionalInfo"}}`` with the class's HTTP status (401s add ``WWW-Authenticate``).
"""
from __future__ import annotations

from .limits import short

SUPPORTED_VERSIONS = ("2016-05-01-preview", "2017-01-01")


class ArmError(Exception):
    status = 400
    code = "BadRequest"
    template = "{0}"

    def __init__(self, *args: object, target: str | None = None):
        # what a message echoes (names, paths, values a client sent) is cut to a short prefix
        self.message = self.template.format(*(short(a, 1000 if self.template == "{0}" else 200) for a in args))
        self.target = short(target) if target is not None else None
        super().__init__(f"({self.code}) {self.message}")

    def envelope(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "target": self.target,
                          "details": [], "additionalInfo": []}}


# --- request validation -------------------------------------------------------------------------

class MissingApiVersionParameter(ArmError):
    code = "MissingApiVersionParameter"
    template = "The api-version query parameter (?api-version=) is required for all requests."


class InvalidApiVersionParameter(ArmError):
    code = "InvalidApiVersionParameter"
    template = "The api-version '{0}' is invalid. The supported versions are '{1}'."  # (inferred wording)


class NoRegisteredProviderFound(ArmError):
    code = "NoRegisteredProviderFound"
    template = ("No registered resource provider found for location '{0}' and API version '{1}' for type "
                "'webServices'. The supported api-versions are '" + ", ".join(SUPPORTED_VERSIONS) + "'. "
                "The supported locations are '{2}'.")


class LocationNotAvailableForResourceType(ArmError):
    code = "LocationNotAvailableForResourceType"
    template = ("The provided location '{0}' is not available for resource type 'Microsoft.MachineLearning/webServices'. "
                "List of available regions for the resource type is '{1}'.")


class InvalidRequestContent(ArmError):
    code = "InvalidRequestContent"
    template = "The request content was invalid and could not be deserialized: {0}"


class BadRequest(ArmError):
    code = "BadRequest"


class WebServiceReadOnly(ArmError):
    status, code = 409, "Conflict"  # (inferred: status and code are not documented)
    template = "The web service '{0}' is read-only: it can be removed but not updated."


class InvalidModel(ArmError):
    """The terminal error of an async operation whose trained model cannot be loaded (inferred)."""
    code = "InvalidTrainedModel"
    template = "The asset '{0}' cannot be loaded from '{1}': {2}"


# --- not found ----------------------------------------------------------------------------------

class SubscriptionNotFound(ArmError):
    status, code = 404, "SubscriptionNotFound"
    template = "The subscription '{0}' could not be found."


class ResourceGroupNotFound(ArmError):
    status, code = 404, "ResourceGroupNotFound"
    template = "Resource group '{0}' could not be found."


class ResourceNotFound(ArmError):
    status, code = 404, "ResourceNotFound"
    template = ("The Resource 'Microsoft.MachineLearning/webServices/{0}' under resource group '{1}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


class OperationNotFound(ArmError):
    status, code = 404, "NotFound"
    template = "The operation '{0}' was not found."  # (inferred)


class RouteNotFound(ArmError):
    status, code = 404, "InvalidResourceType"  # (inferred)
    template = "The resource type could not be found for the request path '{0}'."


class MethodNotAllowed(ArmError):
    status, code = 405, "MethodNotAllowed"  # (inferred)
    template = "The requested method is not allowed on '{0}'."


# --- authentication -----------------------------------------------------------------------------

class AuthenticationError(ArmError):
    status = 401


class AuthorizationHeaderMissing(AuthenticationError):
    code = "AuthenticationFailed"
    template = "Authentication failed. The 'Authorization' header is missing."


class AuthorizationHeaderInvalid(AuthenticationError):
    code = "AuthenticationFailed"
    template = "Authentication failed. The 'Authorization' header is provided in an invalid format."


class InvalidAuthenticationToken(AuthenticationError):
    code = "InvalidAuthenticationToken"
    template = "The access token is invalid."


class InvalidAuthenticationTokenAudience(AuthenticationError):
    code = "InvalidAuthenticationTokenAudience"
    template = ("The access token has been obtained for wrong audience or resource '{0}'. It should exactly match "
                "with one of the allowed audiences 'https://management.core.windows.net/',"
                "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.")


class ExpiredAuthenticationToken(AuthenticationError):
    code = "ExpiredAuthenticationToken"
    template = "The access token expiry UTC time '{0}' is earlier than current UTC time '{1}'."


class InvalidAuthenticationTokenTenant(AuthenticationError):
    code = "InvalidAuthenticationTokenTenant"
    template = ("The access token is from the wrong issuer '{0}'. It must match the tenant "
                "'https://sts.windows.net/{1}/' associated with this subscription. Please use the authority (URL) "
                "'https://login.windows.net/{1}' to get the token. Note, if the subscription is transferred to "
                "another tenant there is no impact to the services, but information about new tenant could take "
                "time to propagate (up to an hour). If you just transferred your subscription and see this error "
                "message, please try back later.")


# --- authorization ------------------------------------------------------------------------------

class AuthorizationFailed(ArmError):
    status, code = 403, "AuthorizationFailed"
    template = ("The client '{0}' with object id '{1}' does not have authorization to perform action '{2}' over "
                "scope '{3}' or the scope is invalid. If access was recently granted, please refresh your credentials.")


class RequestTooLarge(ArmError):
    status, code = 413, "RequestEntityTooLarge"  # (inferred: ARM's code for this is not documented)
    template = "The request content has {0} bytes; at most {1} bytes are accepted."


class ServiceUnavailable(ArmError):
    status, code = 503, "ServiceUnavailable"  # (inferred wording)
    template = "The storage service did not answer: {0}"


class InternalServerError(ArmError):
    status, code = 500, "InternalServerError"
    template = "{0}"


# --- throttling and outages (what fault injection answers with; emulator/faults.py) ---------------------

class TooManyRequests(ArmError):
    """ARM's throttling answer, with Retry-After (Microsoft Learn: "Understand how Azure Resource Manager throttles
    requests")."""
    status, code = 429, "TooManyRequests"
    template = "{0}"


class ServiceUnavailable(ArmError):
    status, code = 503, "ServiceUnavailable"
    template = "{0}"
