"""Direct debit: the "Prélèvement automatique" requests' hooks, SEPA mandates, numbered
pain.008 batches and the debits the bank rejects."""
