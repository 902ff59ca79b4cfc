"""The designer's exceptions: everything it raises on purpose is a ``DesignerError``.

The command line catches the base (and the compiler's ``CompilerError``) and
prints one line; pages catch the kinds they can explain. The tree::

    DesignerError
    ├── UserError          a mistake on the command line; printed as it is        (designer.cli)
    ├── ServiceError       something a page asked for that cannot be done         (designer.services)
    │   ├── PublishRefused the draft still has errors; ``problems`` lists them   (designer.services)
    │   ├── NothingToPublish the draft calls the same as the published revision   (designer.services)
    │   └── PasswordAlreadySet the first password was set since this page opened (designer.passwords)
    ├── StoreError         a store operation that cannot be done                   (designer.store)
    │   ├── StaleFlow      the flow was saved elsewhere since it was loaded        (designer.store)
    │   ├── SpoolConflict  another reader moved a spool file's position first      (designer.store)
    │   └── SchemaTooNew   the database was made by a newer flexml-designer        (designer.store.migrations)
    ├── CarrierError       the carrier refused or could not be reached             (designer.carrier.client)
    ├── ApiError           the sandbox's answer other than 200, with the status    (designer.sandbox.schema)
    ├── BadRequest         a carrier request the host cannot use (logged, answered) (designer.host.app)
    ├── CallBroke          a simulated call cannot go on                           (designer.simulator)
    ├── NotFlexML          an answer the carrier could not run                     (designer.simulator.flexml)
    ├── AnswerTooLarge     an answer past the simulator's size limit               (designer.simulator.transport)
    ├── HangUp             a simulated caller hangs up                             (designer.simulator.callers)
    ├── FlowNotFound       the editor was opened for a flow the store does not have (designer.ui.editor_state)
    └── CanvasSetupError   the canvas's npm package is missing; a RuntimeError     (designer.ui.canvas)

Each subclass lives beside the code that raises it; this module, at the bottom
of the layers, holds only the base.
"""

from __future__ import annotations

__all__ = ["DesignerError"]


class DesignerError(Exception):
    """Something the designer cannot do; the message says what and where, for the user to read."""
