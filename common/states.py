"""One way for a model to move between states: its allowed moves written down as a table,
every change of state checked against it.

A model lists its moves in `TRANSITIONS` ({state: {states it may move to}}) and names the field
that holds its state in `STATE_FIELD`; `move_to(state)` changes that field in memory, or raises
ValidationError with a sentence in French when the table forbids the move. The state names come
from the field's choices, so the message reads « payée », « en attente », never a code.
"""

from django.core.exceptions import ValidationError


class StateMachine:
    """Mixin for models with a `TextChoices` state field and a `TRANSITIONS` table."""

    STATE_FIELD = "status"
    TRANSITIONS: dict = {}
    # How the message names the object, e.g. "Une facture"; `move_refused_message` may do more.
    STATE_SUBJECT = "Cet élément"

    @classmethod
    def sources_of(cls, state) -> list:
        """The states from which TRANSITIONS allow a move to `state`: what a queryset
        `.filter(<state field>__in=…).update(…)` must select to move many rows at once."""
        return [source for source, targets in cls.TRANSITIONS.items() if state in targets]

    def state_label(self, state) -> str:
        """The French label of `state` (a value of the state field's choices), lower case."""
        choices = dict(self._meta.get_field(self.STATE_FIELD).flatchoices)
        return str(choices.get(state, state)).lower()

    @property
    def current_state(self):
        return getattr(self, self.STATE_FIELD)

    def can_move_to(self, state) -> bool:
        """Whether TRANSITIONS allow the move from the current state to `state`."""
        return state in self.TRANSITIONS.get(self.current_state, ())

    def move_refused_message(self, state) -> str:
        return (
            f"{self.STATE_SUBJECT} « {self.state_label(self.current_state)} » ne peut pas "
            f"devenir « {self.state_label(state)} »."
        )

    def move_to(self, state) -> None:
        """Change the state in memory (not saved), or raise ValidationError on a move not in
        TRANSITIONS."""
        if not self.can_move_to(state):
            raise ValidationError(self.move_refused_message(state), code="invalid_transition")
        setattr(self, self.STATE_FIELD, state)

    def settle_in(self, state) -> bool:
        """Be in `state`: move there if not there yet (checked like `move_to`). Returns whether
        the state changed. For states reached again by repeated news (a webhook delivered
        twice), where staying put is no error."""
        if self.current_state == state:
            return False
        self.move_to(state)
        return True
