"""The rehearsal lab: Linux "hosts" on this machine (network namespaces on a bridge,
each with its own sshd, deploy root and supervisord) behind HAProxy in the root
namespace. `deploy.lab.farm.up/down` build and remove it; `invoke lab.up/down` call them."""

from deploy.errors import ShipyardError


class LabError(ShipyardError):
    """The lab could not be built or torn down (a command failed, a daemon did not answer)."""
