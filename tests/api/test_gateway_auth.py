"""The local gateway verifies Cognito ID tokens exactly as the API's authorizer would."""

import jwt
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa


def test_protected_route_without_token_is_401_json(api):
    # When an anonymous client calls a protected route
    response = api.get("/me")
    # Then the gateway answers 401 with the JSON error body
    assert response.status == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_local_user_token_gets_in_with_its_role(api):
    # Given a merchant created in the emulated user pool
    merchant = api.user("merchant")
    # When it calls /me with its ID token
    response = api.get("/me", as_user=merchant)
    # Then the function sees the verified claims
    assert response.status == 200, response.text
    assert response.json()["user_id"] == merchant.sub
    assert response.json()["role"] == "merchant"


def test_bearer_prefix_is_accepted(api):
    promoter = api.user("promoter")
    response = api.get("/me", headers={"Authorization": f"Bearer {promoter.token}"})
    assert response.status == 200


def test_tampered_token_is_401(api):
    # Given a valid token whose payload is altered after signing
    promoter = api.user("promoter")
    header, _payload, signature = promoter.token.split(".")
    forged = jwt.encode(
        {**jwt.decode(promoter.token, options={"verify_signature": False}), "custom:role": "admin"},
        "an-attacker-secret-of-32-bytes!!",
        algorithm="HS256",
    ).split(".")[1]
    # When it is presented
    response = api.get("/me", token=f"{header}.{forged}.{signature}")
    # Then it is refused
    assert response.status == 401


def test_token_signed_by_another_key_is_401(api):
    # Given a token with the right claims but signed by a key the pool does not publish
    promoter = api.user("promoter")
    claims = jwt.decode(promoter.token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(promoter.token)["kid"]
    response = api.get("/me", token=jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))
    assert response.status == 401


def test_expired_token_is_401(api):
    # Given a valid token, when the clock passes its expiry
    promoter = api.user("promoter")
    expiry = jwt.decode(promoter.token, options={"verify_signature": False})["exp"]
    with time_machine.travel(expiry + 120, tick=False):
        # Then it is refused
        assert api.get("/me", as_user=promoter).status == 401


def test_token_for_another_client_is_401(api, stack):
    # Given a token issued to a different app client of the same pool
    import boto3

    cognito = boto3.client("cognito-idp")
    other = cognito.create_user_pool_client(
        UserPoolId=stack.physical["UserPool"], ClientName="other", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )
    stack.physical["UserPoolClient"], original = other["UserPoolClient"]["ClientId"], stack.physical["UserPoolClient"]
    try:
        user = api.user("promoter")
    finally:
        stack.physical["UserPoolClient"] = original
    # Then the audience check refuses it
    assert api.get("/me", as_user=user).status == 401


def test_unknown_route_is_404_json(api):
    response = api.get("/nowhere")
    assert response.status == 404
    assert response.json()["error"]["code"] == "not_found"


def test_self_signed_up_user_without_role_is_told_how_to_get_one(api):
    # Given a user who signed up by themselves (valid token, no custom:role)
    newcomer = api.user(None, name="newcomer")
    # When they call a promoter route
    response = api.get("/promoter/tasks", as_user=newcomer)
    # Then a 403 in the one error shape says the account has no role and who grants one
    assert response.status == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "no role" in error["message"] and "administrator" in error["message"]
