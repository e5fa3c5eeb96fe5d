"""Social login rules against real SQL: what providers say, matching, linking and unlinking."""

import pytest

from blueberry.extensions import db
from blueberry.models import SocialAccount
from blueberry.models.base import utcnow
from blueberry.services import social
from blueberry.services.errors import FieldError


def kakao(**account):
    return {"id": 4242, "kakao_account": account}


def test_kakao_answers_are_read_whatever_the_person_consented_to():
    full = social.kakao_profile(
        kakao(email="Mina@Example.com", is_email_valid=True, is_email_verified=True, profile={"nickname": "미나"},
              age_range="20~29", gender="female", phone_number="+82 10-1234-5678")
    )  # fmt: skip
    assert (full.uid, full.email, full.email_verified, full.nickname) == ("4242", "mina@example.com", True, "미나")
    assert (full.age_range, full.gender, full.phone) == ("20~29", "female", "+821012345678")
    bare = social.kakao_profile({"id": 7, "kakao_account": {"email_needs_agreement": True}})
    assert (bare.email, bare.nickname, bare.gender, bare.phone, bare.email_verified) == (None, None, None, None, False)
    unverified = social.kakao_profile(kakao(email="a@b.c", is_email_valid=True, is_email_verified=False))
    assert unverified.email == "a@b.c" and not unverified.email_verified
    for garbage in ({"id": "4242"}, {}, [], {"kakao_account": {}}, kakao(profile={"nickname": "mi\x00na"})):
        with pytest.raises(social.ProviderAnswerError):
            social.kakao_profile(garbage)


def test_discord_email_counts_only_when_verified():
    profile = social.discord_profile({"id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
                                      "email": "nelly@example.com", "verified": False})  # fmt: skip
    assert (profile.uid, profile.nickname, profile.email, profile.email_verified) == (
        "80351110224678912",
        "Nelly",
        "nelly@example.com",
        False,
    )
    with pytest.raises(social.ProviderAnswerError):
        social.discord_profile({"id": 80351110224678912})
    with pytest.raises(social.ProviderAnswerError):
        social.discord_profile({"id": "80351110224678912", "username": "nel\x00ly"})


def test_only_a_verified_email_or_the_phone_matches_an_existing_user(make_user):
    mina = make_user("mina", phone="010-1234-5678")
    mina.email = "mina@example.com"
    db.session.commit()
    claim = social.ProviderProfile("kakao", "1", email="mina@example.com", email_verified=True)
    assert social.matching_user(claim) is None  # her address is not verified yet
    mina.email_verified_at = utcnow()
    db.session.commit()
    assert social.matching_user(claim) == mina
    unverified = social.ProviderProfile("discord", "2", email="mina@example.com", email_verified=False)
    assert social.matching_user(unverified) is None
    assert social.matching_user(social.ProviderProfile("kakao", "3", phone="+821012345678")) == mina


def test_a_login_links_to_one_user_only(make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    profile = social.ProviderProfile("discord", "99", nickname="Mina")
    social.link(mina, profile)
    assert social.link(mina, profile).user_id == mina.id  # again: the same link
    with pytest.raises(FieldError):
        social.link(jun, profile)
    db.session.commit()
    assert db.session.query(SocialAccount).count() == 1


def test_the_last_way_to_log_in_cannot_be_removed(make_user):
    profile = social.ProviderProfile("kakao", "5", nickname="ara", gender="female", age_range="30~39")
    ara = social.create_user(profile, social.SocialSignup("ara", "", 31, "female"))
    db.session.commit()
    assert not ara.has_password and [a.provider for a in ara.social_accounts] == ["kakao"]
    with pytest.raises(FieldError):
        social.unlink(ara, ara.social_accounts[0].id)
    discord = social.link(ara, social.ProviderProfile("discord", "6"))
    db.session.commit()
    social.unlink(ara, discord.id)  # another way is left
    db.session.commit()
    db.session.refresh(ara)
    assert [a.provider for a in ara.social_accounts] == ["kakao"]


def test_a_new_account_takes_a_verified_email_only_if_nobody_has_it(make_user):
    taken = make_user("mina")
    taken.email = "shared@example.com"
    db.session.commit()
    first = social.create_user(
        social.ProviderProfile("kakao", "10", email="shared@example.com", email_verified=True),
        social.SocialSignup("newbie", "", 25, "male"),
    )
    second = social.create_user(
        social.ProviderProfile("discord", "11", email="own@example.com", email_verified=True),
        social.SocialSignup("other", "", 25, "male"),
    )
    assert first.email is None and (second.email, second.email_verified) == ("own@example.com", True)


def test_suggestions_for_the_finish_form(make_user):
    make_user("mina")
    profile = social.ProviderProfile("kakao", "1", nickname="Mina", age_range="20~29")
    assert social.suggested_username(profile) == "mina2" and social.suggested_age(profile) == 20
    assert social.suggested_age(social.ProviderProfile("kakao", "2", age_range="15~19")) is None
    assert social.suggested_username(social.ProviderProfile("discord", "3", nickname="!!")) == "discord"
