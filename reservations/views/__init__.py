"""The reservations' pages: the parents' agenda (`parents`, under /agenda/) and the animateurs'
register (`attendance`, under /pointage/)."""
