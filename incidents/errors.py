"""Domain errors. Their messages are shown to users as they are: say what is wrong and what to do."""


class IncidentError(Exception):
    """A request the incident process refuses; the message is for the person who asked."""


class NotFound(IncidentError):
    pass


class InvalidTransition(IncidentError):
    pass


class InvalidInput(IncidentError):
    pass


class NotAllowed(IncidentError):
    pass
