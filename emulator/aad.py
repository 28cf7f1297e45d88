"""The emulated Azure AD: tenants, service principals, client-credentials tokens, as the Microsoft identity
platform documents them (the client credentials flow, access tokens and their claims).

Tokens are real RS256 JWTs signed with a key made per emulator instance; the Resource Manager side
verifies them with the same key (``verify``), so a token from elsewhere, or altered, is refused.
No I/O here: ``apis.aad`` parses requests and renders what this module returns or raises.
"""
from __future__ import annotations

import hmac
import threading
import time
from collections import deque
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import aad_errors as errors

ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.core.windows.net",
                 "https://management.azure.com/", "https://management.azure.com")
# Resources a token may be asked for: ARM, plus a few well-known others (tokens ARM must refuse).
KNOWN_RESOURCES = ARM_AUDIENCES + ("https://storage.azure.com/", "https://vault.azure.net",
                                   "https://graph.microsoft.com/", "https://graph.windows.net/")
DEFAULT_LIFETIME = 3599


@dataclass
class Principal:
    client_id: str
    object_id: str
    secret: str
    display_name: str = ""
    secret_expired: bool = False
    lifetime: int | None = None


@dataclass
class Tenant:
    id: str
    domains: list[str] = field(default_factory=list)
    principals: dict[str, Principal] = field(default_factory=dict)  # by lower-case client id
    resources: list[str] = field(default_factory=list)  # tokens may be issued for these besides Azure's own

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.id}/"


@dataclass
class Token:
    """What the token endpoint answers; ``claims`` are inside ``access_token``."""
    access_token: str
    claims: dict
    resource: str


class Directory:
    """Tenants and principals from the config (not changed afterwards, so safe to share between threads);
    issues and verifies tokens."""

    def __init__(self, document: dict | None):
        self.tenants: list[Tenant] = []
        self._secrets: list[str] = []
        self.faults = None  # emulator/faults.py, set by the Emulator
        self._issued: deque[str] = deque(maxlen=64)  # the newest tokens issued, for redaction by value
        self._issued_lock = threading.Lock()
        self.secrets_version = 0  # changes whenever ``secrets()`` may (a redactor is rebuilt then)
        self.extend(document)
        self._signing: Any = None  # the RSA key, made on first use: most runs never ask for a token
        self._signing_lock = threading.Lock()
        self.key_id = uuid.uuid4().hex

    @property
    def _key(self) -> Any:
        with self._signing_lock:
            if self._signing is None:
                from cryptography.hazmat.primitives.asymmetric import rsa
                self._signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._signing

    def extend(self, document: dict | None) -> None:
        """Tenants and principals of a (larger) config; known principals keep their object ids. The lists are
        replaced whole, so readers in other threads see the old set or the new one."""
        document = document or {}
        self.lifetime = int(document.get("tokenLifetimeSeconds", DEFAULT_LIFETIME))
        known = {(t.id, cid): p for t in self.tenants for cid, p in t.principals.items()}
        tenants = []
        for t in document.get("tenants", []):
            tenant = Tenant(t["id"].lower(), [d.lower() for d in t.get("domains", [])],
                            resources=[r["uri"] for r in t.get("resources", [])])
            for p in t.get("servicePrincipals", []):
                tenant.principals[p["clientId"].lower()] = known.get((tenant.id, p["clientId"].lower())) or Principal(
                    p["clientId"], (p.get("objectId") or str(uuid.uuid4())).lower(), p["secret"],
                    p.get("displayName", ""), p.get("secretExpired", False), p.get("tokenLifetimeSeconds"))
            tenants.append(tenant)
        self.tenants = tenants
        self._secrets = [p.secret for t in tenants for p in t.principals.values()]  # for redaction, per request
        self.secrets_version += 1

    # --- lookups ------------------------------------------------------------------------------------

    def tenant(self, name: str) -> Tenant:
        """A tenant by GUID or verified domain (case-insensitive); unknown ones are AADSTS90002."""
        wanted = name.lower()
        for tenant in self.tenants:
            if wanted == tenant.id or wanted in tenant.domains:
                return tenant
        raise errors.TenantNotFound(name)

    def find_tenant(self, name: str) -> Tenant | None:
        try:
            return self.tenant(name)
        except errors.AadError:
            return None

    def secrets(self) -> list[str]:
        with self._issued_lock:
            return self._secrets + list(self._issued)

    # --- the client-credentials grant ---------------------------------------------------------------

    def issue(self, tenant_name: str, form: dict[str, str], *, v2: bool) -> Token:
        """Check a token request (form fields as sent) and sign an app-only token for it."""
        tenant = self.tenant(tenant_name)
        for name in ("grant_type", "client_id"):
            if not form.get(name):
                raise errors.MissingParameter(name)
        if form["grant_type"] != "client_credentials":
            raise errors.UnsupportedGrantType(form["grant_type"])
        resource = self._resource(form, tenant, tenant_name, v2=v2)
        principal = tenant.principals.get(form["client_id"].lower())
        if principal is None:
            raise errors.UnknownClient(form["client_id"], tenant_name)
        if not form.get("client_secret"):
            raise errors.MissingSecret()
        if not hmac.compare_digest(form["client_secret"].encode(), principal.secret.encode()):
            raise errors.InvalidClientSecret(principal.client_id)
        if principal.secret_expired:
            raise errors.ExpiredClientSecret(principal.client_id)
        now = int(time.time())
        lifetime = principal.lifetime if principal.lifetime is not None else self.lifetime
        if self.faults is not None:  # a token that expires early (emulator/faults.py)
            lifetime = self.faults.token_lifetime(principal.client_id, lifetime)
        claims = {"aud": resource, "iss": tenant.issuer, "iat": now, "nbf": now, "exp": now + lifetime,
                  "aio": uuid.uuid4().hex, "appid": principal.client_id, "appidacr": "1", "idp": tenant.issuer,
                  "idtyp": "app", "oid": principal.object_id, "rh": "0.adfemu.", "sub": principal.object_id,
                  "tid": tenant.id, "uti": uuid.uuid4().hex[:22], "ver": "1.0", "xms_tcdt": now}
        token = _jwt().encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id, "x5t": self.key_id})
        with self._issued_lock:
            self._issued.append(token)
            self.secrets_version += 1
        return Token(token, claims, resource)

    def _resource(self, form: dict[str, str], tenant: Tenant, tenant_name: str, *, v2: bool) -> str:
        """v1 names the resource; v2 a scope '<resource>/.default' (the token's aud is the resource)."""
        if v2:
            scope = form.get("scope")
            if not scope:
                raise errors.MissingParameter("scope")
            scopes = scope.split()
            if len(scopes) != 1 or not scopes[0].endswith("/.default"):
                raise errors.InvalidScope(scope)
            resource = scopes[0][: -len(".default")]
        else:
            resource = form.get("resource")
            if not resource:
                raise errors.MissingParameter("resource")
        known = {r.rstrip("/").lower(): r for r in (*KNOWN_RESOURCES, *tenant.resources)}
        if resource.rstrip("/").lower() not in known:
            raise errors.UnknownResource(resource, tenant_name)
        return resource

    # --- verification (the Resource Manager side) ---------------------------------------------------

    def verify(self, token: str) -> dict | None:
        """The claims of a token this directory signed, or None; signature checked, times not (ARM reports those)."""
        jwt = _jwt()
        try:
            return jwt.decode(token, self._key.public_key(), algorithms=["RS256"],
                              options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                                       "verify_iat": False, "require": ["aud", "exp", "tid", "oid", "iss"]})
        except jwt.PyJWTError:
            return None

    # --- saved state (``--state``): tokens issued before a restart stay valid --------------------------

    def signing_key(self) -> tuple[str, str]:
        """The signing key as unencrypted PKCS#8 PEM, and its key id."""
        from cryptography.hazmat.primitives import serialization
        pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        return pem.decode(), self.key_id

    def restore(self, tenants: list[Tenant], lifetime: int, key_pem: str, key_id: str) -> None:
        """Tenants, principals and signing key as saved (called before serving)."""
        from cryptography.hazmat.primitives import serialization
        self._signing = serialization.load_pem_private_key(key_pem.encode(), password=None)
        self.key_id, self.lifetime, self.tenants = key_id, lifetime, tenants
        self._secrets = [p.secret for t in tenants for p in t.principals.values()]

    def jwks(self) -> dict:
        key = _jwt().algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [dict(key, kid=self.key_id, x5t=self.key_id, use="sig")]}


def _jwt():
    """PyJWT (and cryptography), imported for the first token: most runs never ask for one, and the two take a
    tenth of the emulator's imports, which run beside Azurite's start and slow it."""
    import jwt
    return jwt
