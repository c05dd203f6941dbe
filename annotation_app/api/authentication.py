"""Token authentication for the claim endpoint, the API's hottest: DRF's `TokenAuthentication`
(the same header, the same refusals), but the user behind a token is read by one raw query whose
SQL is written once, instead of the ORM compiling the same join on every request. Nothing is
cached: a deleted token or a deactivated user is refused on the next request, as with DRF's."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from annotation_app.models import User


def _token_user_sql() -> str:
    user_columns = ", ".join(f"u.{field.column}" for field in User._meta.concrete_fields)
    token_user = Token._meta.get_field("user").column
    return (
        f"SELECT {user_columns} FROM {Token._meta.db_table} t "
        f"JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = t.{token_user} "
        f"WHERE t.{Token._meta.pk.column} = %s"
    )


TOKEN_USER_SQL = _token_user_sql()


class OneQueryTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        user = next(iter(User.objects.raw(TOKEN_USER_SQL, [key])), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # `request.auth`: the token by its key (its `created` is not read; nothing here uses it).
        return user, Token(key=key, user=user)
