"""AML Studio (classic) errors: one exception class per detail code.

Every error the runtime and management APIs return is rendered once, by
``apis.render_aml_error``, as ``{"error": {"code", "message", "details": [...]}}``
with the HTTP status of its class (Microsoft Learn: "Azure Machine Learning Studio (classic) REST API
Error Codes").

A class family (``BadArgument``, ``Unauthorized``...) fixes ``code``, ``status``
and the class ``message``; a detail subclass fixes ``detail_code`` and its
message ``template``. Messages are the catalogue texts verbatim, because ADF
quotes them to its users (MicrosoftDocs/azure-docs#32354).
"""
from __future__ import annotations

from .limits import short


class AmlError(Exception):
    """Base of every AML classic error. Subclasses set the class attributes."""

    status = 500
    code = "InternalError"
    message = "Execution encountered an internal error."
    detail_code: str | None = None
    template = ""

    def __init__(self, *args: object, target: str | None = None, detail: str | None = None):
        # what a message echoes (names, ids, paths a client sent) is cut to a short prefix
        self.detail_message = short(detail, 1000) if detail is not None else \
            self.template.format(*(short(a, 1000 if self.template == "{0}" else 200) for a in args))
        self.target = short(target) if target is not None else None
        super().__init__(f"{self.code}/{self.detail_code}: {self.detail_message}")

    def details(self) -> list[dict]:
        if not self.detail_code:
            return []
        item = {"code": self.detail_code, "message": self.detail_message}
        if self.target is not None:
            item["target"] = self.target
        return [item]

    def envelope(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details()}}

    def one_line(self) -> str:
        """``error.message`` then the detail message, as ADF quotes it."""
        return " ".join(m for m in (self.message, self.detail_message) if m)


# --- class families ---------------------------------------------------------------------------

class BadArgument(AmlError):
    status, code, message = 400, "BadArgument", "Invalid argument provided."


class BadUserArgument(AmlError):
    status, code, message = 400, "BadUserArgument", "Invalid user argument provided."


class InvalidOperation(AmlError):
    status, code, message = 400, "InvalidOperation", "The request is invalid in the current context."


class ModuleExecutionError(AmlError):
    status, code, message = 400, "ModuleExecutionError", "Module execution encountered an error."
    detail_code = "ModuleExecutionError"
    template = "{0}"


class Unauthorized(AmlError):
    status, code, message = 401, "Unauthorized", "Request is unauthorized to access resource."


class NotFound(AmlError):
    status, code, message = 404, "NotFound", "Resource not found."


class MethodNotAllowed(AmlError):
    """Not in the catalogue (inferred): a known path with a verb the service does not route."""
    status, code, message = 405, "MethodNotAllowed", "The requested HTTP method is not supported for this resource."


class InternalError(AmlError):
    status, code, message = 500, "InternalError", "Execution encountered an internal error."
    detail_code = "InternalError"
    template = "{0}"


# --- BadArgument details --------------------------------------------------------------------

class RequestBodyInvalid(BadArgument):
    detail_code = "RequestBodyInvalid"
    template = "No request body provided or error in deserializing the request body."


class BadVersionCall(BadArgument):
    detail_code = "BadVersionCall"
    template = ("Invalid version parameter was passed during the API call: {0}. Check the API help page "
                "for passing the correct version and try again.")


class DuplicateInputInBatchCall(BadArgument):
    detail_code = "DuplicateInputInBatchCall"
    template = ("The batch request is invalid. Cannot specify both single and multiple input at the same time. "
                "Remove one of these items from the request and try again.")


class InvalidInputNames(BadArgument):
    detail_code = "InvalidInputNames"
    template = ("Invalid service input name(s) specified in the request: {0}. Please map the input data to "
                "the correct service inputs and try again.")


class BatchJobInputsNotSpecified(BadArgument):
    detail_code = "BatchJobInputsNotSpecified"
    template = ("The following required input(s) were not specified with the request: {0}. Please ensure all "
                "input data is specified and try again.")


class BatchJobInputsTooManySpecified(BadArgument):
    detail_code = "BatchJobInputsTooManySpecified"
    template = ("The request specified more inputs than defined in the service. List of accepted input(s): {0}. "
                "Please ensure all input data is specified correctly and try again.")


class InvalidOutputOverrideName(BadArgument):
    detail_code = "InvalidOutputOverrideName"
    template = ("Invalid output override name: {0}. The service does not have an output node with this name. "
                "Please pass in a correct output node name to override (case sensitivity applies).")


class MissingOutputOverrideSpecification(BadArgument):
    detail_code = "MissingOutputOverrideSpecification"
    template = ("The request is missing the blob specification for output override {0}. Please specify the "
                "blob and try again.")


class MissingInputBlobInformation(BadArgument):
    detail_code = "MissingInputBlobInformation"
    template = ("Missing Azure storage blob information. Provide a valid connection string and relative path "
                "or URI and try again.")


class InvalidBlobConnectionString(BadArgument):
    detail_code = "InvalidBlobConnectionString"
    template = ("The connection string specified for one of the input/output blobs in invalid: {0}. Please "
                "correct this and try again.")


class InvalidBlob(BadArgument):
    detail_code = "InvalidBlob"
    template = ("Invalid blob specification for blob: {0}. Verify that connection string / relative path or "
                "SAS token specification is correct and try again.")


class InputBlobRelativeLocationInvalid(BadArgument):
    detail_code = "InputBlobRelativeLocationInvalid"
    template = "No Azure storage blob name provided. Provide a valid blob name and try again."


class ContainerSegmentInvalid(BadArgument):
    detail_code = "ContainerSegmentInvalid"
    template = "Invalid container name. Provide a valid container name and try again."


class ContainerIsEmpty(BadArgument):
    detail_code = "ContainerIsEmpty"
    template = "No Azure storage container name was provided. Provide a valid container name and try again."


class InvalidBlobExtension(BadArgument):
    detail_code = "InvalidBlobExtension"
    template = ('The blob reference: {0} has an invalid or missing file extension. Supported file extensions '
                'for this output type are: "{1}".')


class BlobNotFound(BadArgument):
    detail_code = "BlobNotFound"
    template = "Unable to access the provided Azure blob - {0}. Azure error message: {1}."


class MissingJobId(BadArgument):
    detail_code = "MissingJobId"
    template = "No job ID provided. Provide a valid job ID and try again."


class UpdatingDefaultEndpoint(BadArgument):
    """(inferred) The retraining docs forbid updating the default endpoint; the exact text is undocumented."""
    detail_code = "CannotUpdateDefaultEndpoint"
    template = ("The default endpoint of a web service is kept in sync with its experiment and cannot be "
                "updated. Create a non-default endpoint and update that one.")


class NoUpdatableResources(BadArgument):
    """Message from the portal (azure-docs retrain-classic-web-service.md); its use for PATCH is inferred."""
    detail_code = "NoUpdatableResources"
    template = ("Sorry, but this feature is not supported or available in this context. This Web Service has "
                "no updatable resources. We apologize for the inconvenience and are working on improving this "
                "workflow.")


class EmptyResourceName(BadArgument):
    detail_code = "InvalidResourceName"
    template = "Resource name is empty string."


class UnknownResourceName(BadArgument):
    """(inferred) detail code and text: the catalogue names no code for an unknown resource."""
    detail_code = "InvalidResourceName"
    template = "The endpoint has no updatable resource named '{0}'. Updatable resources: {1}."


class InvalidEndpointSettings(BadArgument):
    detail_code = "UserParameterInvalid"
    template = "{0}"


# --- BadUserArgument details ------------------------------------------------------------------

class InputParseError(BadUserArgument):
    detail_code = "InputParseError"
    template = ("Parsing of input vector failed.  Verify the input vector has the correct number of columns "
                "and data types.  Additional details: {0}.")


class InputMismatchError(BadUserArgument):
    detail_code = "InputMismatchError"
    template = "Input data does not match input port schema."


class MissingRequiredGlobalParameters(BadUserArgument):
    detail_code = "MissingRequiredGlobalParameters"
    template = ("Not all required web service parameter(s) provided. Verify the parameter(s) expected for the "
                "module(s) are correct and try again.")


class UnexpectedParameter(BadUserArgument):
    detail_code = "UnexpectedParameter"
    template = ("Unexpected parameters provided. Verify all parameter names are spelled correctly, only "
                "expected parameters are passed, and try again.")


# --- InvalidOperation details -----------------------------------------------------------------

class CannotStartJob(InvalidOperation):
    detail_code = "CannotStartJob"
    template = "The job cannot be started because it is in {0} state."


class IncompatibleModel(InvalidOperation):
    detail_code = "IncompatibleModel"
    template = "The trained model at {0} cannot be loaded by this web service: {1}"


class EndpointLimitReached(InvalidOperation):
    """(inferred) A Free workspace allows 3 endpoints including the default (azuremlps README)."""
    detail_code = "EndpointLimitReached"
    template = "A {0} workspace allows at most {1} endpoints per web service, including the default endpoint."


class UpdatePrevented(InvalidOperation):
    detail_code = "UpdatePrevented"
    template = "The endpoint '{0}' has PreventUpdate set and cannot be updated."


class DefaultEndpointOperation(InvalidOperation):
    detail_code = "DefaultEndpointOperation"
    template = "The operation '{0}' is not allowed on the default endpoint."


class NotSupportedByService(InvalidOperation):
    detail_code = "NotSupportedByService"
    template = "{0}"


# --- Unauthorized / NotFound details ----------------------------------------------------------

class ScoreRequestUnauthorized(Unauthorized):
    detail_code = "ScoreRequestUnauthorized"
    template = "Invalid credentials provided."


class ManagementRequestUnauthorized(Unauthorized):
    detail_code = "ManagementRequestUnauthorized"
    template = "Unauthorized"


class WorkspaceNotFound(NotFound):
    detail_code = "WorkspaceNotFound"
    template = "The workspace '{0}' was not found."


class WebServiceNotFound(NotFound):
    detail_code = "WebServiceNotFound"
    template = "The web service '{0}' was not found."


class WebServiceIdNotFoundInWorkspace(NotFound):
    detail_code = "WebServiceIdNotFoundInWorkspace"
    template = "The web service '{0}' was not found in workspace '{1}'."


class EndpointNotFound(NotFound):
    detail_code = "EndpointNotFound"
    template = "The endpoint '{0}' was not found on web service '{1}'."


class JobNotFound(NotFound):
    """(inferred) status: the catalogue only has MissingJobId (400) for an absent id."""
    detail_code = "JobNotFound"
    template = "The job '{0}' was not found."


class RouteNotFound(NotFound):
    detail_code = "RouteNotFound"
    template = "No API is served at '{0}'."


class RequestTooLarge(AmlError):
    """(inferred) The catalogue's only 413 is MemoryQuotaViolation (a model's memory); code and text are adfemu's."""
    status, code, message = 413, "RequestEntityTooLarge", "The request body is too large."
    detail_code = "RequestBodyTooLarge"
    template = "The request body has {0} bytes; at most {1} bytes are accepted."


class ServiceUnavailable(AmlError):
    status, code, message = 503, "ServiceUnavailable", "Service is temporarily unavailable."
    detail_code = "StorageUnavailable"
    template = "The storage service did not answer: {0}"


# --- throttling and outages (what fault injection answers with; emulator/faults.py) ---------------------

class RequestThrottled(AmlError):
    """The catalogue's ServiceUnavailable class with its RequestThrottled detail; the detail text is inferred."""
    status, code, message = 503, "ServiceUnavailable", "Service is temporarily unavailable."
    detail_code = "RequestThrottled"
    template = "{0}"


class TooManyRequests(AmlError):
    """(inferred) 429 is not in the catalogue; its class and detail code are named after the status."""
    status, code, message = 429, "TooManyRequests", "Too many requests."
    detail_code = "TooManyRequests"
    template = "{0}"
