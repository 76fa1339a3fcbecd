"""What a diagnosis may tell the AI of a tenant's data: secrets stay names, addresses and credentials are masked."""

from core.prompt_masking import masked_for_prompt


def test_a_secret_stays_its_name_beside_an_auth_scheme() -> None:
    headers = {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}", "X-Api-Key": "{{secrets.KEY}}"}

    assert masked_for_prompt({"headers": headers}) == {"headers": headers}


def test_a_literal_credential_under_a_credential_key_is_masked_but_the_names_beside_it_kept() -> None:
    masked = masked_for_prompt({"X-Api-Key": "abc123456789", "token": "x-{{ secrets.A }}", "Cookie": ["s=1"]})

    assert masked == {"X-Api-Key": "***", "token": "*** {{ secrets.A }}", "Cookie": ["***"]}


def test_email_addresses_and_credential_looking_values_are_masked_anywhere() -> None:
    masked = masked_for_prompt({"to": ["ada@example.com"], "note": "call bob@corp.io with Bearer abcdefghijklmnop"})

    assert masked == {"to": ["a***@example.com"], "note": "call b***@corp.io with ***"}


def test_a_rendered_secret_placeholder_reads_as_the_secrets_name() -> None:
    placeholder = "\u27easecret:" + "0" * 32 + ":CRM_TOKEN\u27eb"

    assert masked_for_prompt(f"GET https://x.test/?k={placeholder}") == "GET https://x.test/?k={{ secrets.CRM_TOKEN }}"


def test_numbers_and_structure_are_left_as_they_are() -> None:
    value = {"steps": [{"id": "call", "timeout_s": 10, "retry": None, "save_response": True}]}

    assert masked_for_prompt(value) == value
