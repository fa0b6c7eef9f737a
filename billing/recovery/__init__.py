"""Recovery: reminders before the due date, the switch of overdue invoices to "mise en
recouvrement", and the hand-over lists to the Trésor Public."""
