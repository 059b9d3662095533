from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marketing_op.accounts"
    label = "accounts"
    verbose_name = "Accounts"
