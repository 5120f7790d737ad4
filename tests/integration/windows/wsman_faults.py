"""SOAP envelopes and WSManFaults as a Windows Server writes them (shapes from the recorded
exchanges in tests/fixtures/pypsrp), built from string templates, not a client's serializer.

Codes marked "recorded" appear in those recordings; the others are winerror.h's WSMan codes
as far as known, and clients key on the SOAP subcode and the text rather than the number.
"""

from __future__ import annotations

import uuid

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
}
FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail"

TIMED_OUT = 2150858793  # recorded: w:TimedOut, no output within OperationTimeout
INVALID_SELECTORS = 2150858843  # recorded: unknown ShellId/CommandId (also an expired shell)
INVALID_PARAMETER = 87  # recorded: "The parameter is incorrect." (an unknown Signal code too)
ENVELOPE_TOO_BIG = 2150859025  # w:EncodingLimit
INVALID_HEADER = 2150858778
ACTION_NOT_SUPPORTED = 2150858770
TIMEOUT_NOT_SUPPORTED = 2150858882  # w:UnsupportedFeature, detail OperationTimeout (DSP0226 R6.1-4)
INVALID_CODEPAGE = 2150859131
SHELL_QUOTA = 2150859174  # MaxShellsPerUser exceeded
PIPE_CLOSED = 232  # ERROR_NO_DATA, "The pipe is being closed.": Send to a command that has ended
INTERNAL = 2150858752

SHELL_NOT_FOUND = ("The request for the Windows Remote Shell with ShellId {id} failed because the shell was not "
                   "found on the server. Possible causes are: the specified ShellId is incorrect or the shell no "
                   "longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.")
QUOTA_TEXT = ("The WS-Management service cannot process the request. This user is allowed a maximum number of {n} "
              "concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.")
TIMED_OUT_TEXT = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."


class Fault(Exception):
    def __init__(self, code: int, subcode: str, reason: str, http: int = 500, detail: str = ""):
        self.code, self.subcode, self.reason, self.http, self.detail = code, subcode, reason, http, detail
        super().__init__(reason)


def envelope(action: str, relates_to: str, body: str) -> str:
    return (f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" '
            f'xmlns:rsp="{NS["rsp"]}"><s:Header><a:Action>{action}</a:Action>'
            f'<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>'
            f'<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
            f'<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>')


def fault_envelope(relates_to: str, fault: Fault) -> str:
    detail = f"<w:FaultDetail>{FAULT_DETAIL}/{fault.detail}</w:FaultDetail>" if fault.detail else ""
    body = (f'<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>'
            f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
            f'<s:Detail>{detail}<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
            f'Code="{fault.code}" Machine="fake"><f:Message>{escape(fault.reason)}</f:Message></f:WSManFault>'
            f'</s:Detail></s:Fault>')
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to or "uuid:unknown", body)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
