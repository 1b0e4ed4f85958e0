"""Who is signed in, as far as the page header needs to know (no health data here)."""

import reflex as rx

from kapjourney.routes import HOME_BY_ROLE
from kapjourney.ui.guard import actor_from_state, authorized, current_actor, public


class SessionState(rx.State):
    display_name: str = ""
    role: str = ""

    @rx.event
    @authorized()
    async def route_home(self):
        """The index page: send a signed-in user to their home screen."""
        actor = current_actor()
        self.display_name = actor.display_name
        self.role = str(actor.role)
        return rx.redirect(HOME_BY_ROLE[self.role], replace=True)

    @rx.event
    @public("sign-in page: reveals only whether this browser already has a live session")
    async def skip_signin_if_signed_in(self):
        actor = await actor_from_state(self)
        if actor is not None:
            return rx.redirect(HOME_BY_ROLE[str(actor.role)], replace=True)
        return None


async def remember(state: rx.State) -> None:
    """Copy the current actor's name and role into the header state."""
    actor = current_actor()
    session = await state.get_state(SessionState)
    session.display_name = actor.display_name
    session.role = str(actor.role)
