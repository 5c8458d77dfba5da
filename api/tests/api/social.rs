//! Friendships: the request state machine, lists, unfriending, blocking and IDOR.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const BASE: &str = "/api/v1/social/friendships";

async fn code_of(app: &TestApp, u: &TestUser) -> String {
    let (_, body) = app.get_as("/api/v1/users/friend_code/", &u.access).await;
    body["friend_code"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, from: &TestUser, body: Value) -> (u16, Value) {
    app.post_as(&format!("{BASE}/send_request/"), Some(&from.access), body)
        .await
}

async fn respond(app: &TestApp, who: &TestUser, id: &Value, action: &str) -> (u16, Value) {
    let path = format!("{BASE}/{}/respond/", id.as_str().unwrap());
    app.post_as(&path, Some(&who.access), json!({"action": action}))
        .await
}

#[tokio::test]
async fn a_request_by_friend_code_can_be_accepted_and_shows_in_every_list() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let misty = app.user("misty").await;
    // social.gd upper-cases the code; lower case works too.
    let code = code_of(&app, &misty).await;
    let (status, row) = send(&app, &ash, json!({"friend_code": code.to_lowercase()})).await;
    assert_eq!(status, 201, "{row}");
    assert_eq!(row["status"], "pending");
    assert_eq!(row["from_user"], ash.id.as_str());
    assert_eq!(row["to_user_details"]["username"], "misty");
    assert_eq!(row["from_user_details"]["total_catches"], 0);

    let (_, pending) = app.get_as(&format!("{BASE}/pending/"), &misty.access).await;
    assert_eq!(pending["count"], 1);
    assert_eq!(
        pending["requests"][0]["from_user_details"]["username"],
        "ash"
    );
    assert!(pending["requests"][0]["created_at"].is_string());
    let (_, sent) = app.get_as(&format!("{BASE}/sent/"), &ash.access).await;
    assert_eq!(sent["count"], 1);
    let (_, nothing) = app.get_as(&format!("{BASE}/pending/"), &ash.access).await;
    assert_eq!(nothing, json!({"count": 0, "requests": []}));

    // Only the recipient answers; the check runs before the body is looked at.
    let (status, body) = respond(&app, &ash, &row["id"], "accept").await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "Only the recipient can respond to this request"
    );
    assert_eq!(body["error"], body["detail"]);
    let (status, body) = respond(&app, &misty, &row["id"], "maybe").await;
    assert_eq!(
        (status, body),
        (400, json!({"action": ["\"maybe\" is not a valid choice."]}))
    );
    let (status, body) = respond(&app, &misty, &row["id"], "accept").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "accepted");
    let (status, body) = respond(&app, &misty, &row["id"], "reject").await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"], "Only pending requests can be rejected");

    for (me, other) in [(&ash, "misty"), (&misty, "ash")] {
        let (status, friends) = app.get_as(&format!("{BASE}/friends/"), &me.access).await;
        assert_eq!(status, 200);
        assert_eq!(friends["count"], 1);
        let f = &friends["friends"][0];
        assert_eq!(f["username"], other);
        for key in [
            "id",
            "avatar",
            "friend_code",
            "total_catches",
            "unique_species",
        ] {
            assert!(f.get(key).is_some(), "{key}");
        }
    }
    let (_, list) = app.get_as(&format!("{BASE}/"), &ash.access).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["status"], "accepted");
    let (status, detail) = app
        .get_as(
            &format!("{BASE}/{}/", row["id"].as_str().unwrap()),
            &misty.access,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["id"], row["id"]);
    let (status, body) = send(&app, &ash, json!({"user_id": misty.id})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "Users are already friends");
}

#[tokio::test]
async fn requests_can_be_repeated_after_a_rejection_or_an_unfriend() {
    let app = TestApp::spawn().await;
    let a = app.user("brock").await;
    let b = app.user("gary").await;
    let (_, row) = send(&app, &a, json!({"user_id": b.id})).await;
    let (status, body) = send(&app, &a, json!({"user_id": b.id})).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("Friend request already pending"))
    );
    assert_eq!(respond(&app, &b, &row["id"], "reject").await.0, 200);
    // The old server answered 500 here (unique constraint).
    let (status, again) = send(&app, &a, json!({"user_id": b.id})).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["status"], "pending");
    // A request to someone who already asked you accepts theirs.
    let (status, mutual) = send(&app, &b, json!({"to_user_id": a.id})).await;
    assert_eq!(status, 200, "{mutual}");
    assert_eq!(mutual["status"], "accepted");

    // unfriend.gd sends the friend's *user* id (docs/wire-compatibility.md#m2); the friendship id
    // works too.
    let path = format!("{BASE}/{}/unfriend/", b.id);
    let (status, body) = app.call(Method::DELETE, &path, Some(&a.access), None).await;
    assert_eq!((status, body), (204, Value::Null));
    let (_, friends) = app.get_as(&format!("{BASE}/friends/"), &b.access).await;
    assert_eq!(friends["count"], 0);
    let (status, row) = send(&app, &a, json!({"user_id": b.id})).await;
    assert_eq!(status, 201);
    assert_eq!(respond(&app, &b, &row["id"], "accept").await.0, 200);
    let path = format!("{BASE}/{}/unfriend/", row["id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&b.access), None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&b.access), None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.call(Method::POST, &path, Some(&b.access), None).await.0,
        405
    );
}

#[tokio::test]
async fn bad_requests_are_refused_with_clear_messages() {
    let app = TestApp::spawn().await;
    let a = app.user("jessie").await;
    let (status, body) = send(&app, &a, json!({"user_id": a.id})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"detail": "Cannot send friend request to yourself", "error": "Cannot send friend request to yourself"})
    );
    let (_, body) = send(&app, &a, json!({})).await;
    assert_eq!(
        body,
        json!({"non_field_errors": ["Either friend_code or user_id must be provided"]})
    );
    let (_, body) = send(&app, &a, json!({"friend_code": "ZZZZZZZZ"})).await;
    assert_eq!(
        body,
        json!({"friend_code": ["No user found with this friend code"]})
    );
    let (_, body) = send(&app, &a, json!({"user_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(body, json!({"user_id": ["No user found with this ID"]}));
    let (status, body) = send(&app, &a, json!({"user_id": "not-a-uuid"})).await;
    assert_eq!(
        (status, body),
        (400, json!({"user_id": ["Must be a valid UUID."]}))
    );
    let (status, body) = send(&app, &a, json!({"user_id": 12.0})).await;
    assert_eq!(
        (status, body),
        (400, json!({"user_id": ["Must be a valid UUID."]}))
    );
}

#[tokio::test]
async fn blocked_users_cannot_reach_or_see_each_other() {
    let app = TestApp::spawn().await;
    let pest = app.user("pest").await;
    let me = app.user("me").await;
    let (_, row) = send(&app, &pest, json!({"user_id": me.id})).await;
    let (status, body) = respond(&app, &me, &row["id"], "block").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "blocked");

    let (status, body) = send(&app, &pest, json!({"user_id": me.id})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("Cannot send friend request"))
    );
    assert_eq!(
        app.get_as(&format!("/api/v1/users/{}/", me.id), &pest.access)
            .await
            .0,
        404
    );
    assert_eq!(
        app.get_as(&format!("/api/v1/users/{}/", pest.id), &me.access)
            .await
            .0,
        404
    );
    let code = code_of(&app, &me).await;
    let (status, _) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&pest.access),
            json!({"friend_code": code}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, users) = app.get_as("/api/v1/users/", &pest.access).await;
    assert_eq!(users["count"], 1, "only themself: {users}");
    let (status, body) = app
        .get_as(&format!("{BASE}/check/?user_id={}", me.id), &pest.access)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("User not found"))
    );
    // The blocked user cannot lift the block by "unfriending".
    let path = format!("{BASE}/{}/unfriend/", me.id);
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&pest.access), None)
            .await
            .0,
        404
    );
    // The blocker can, and may then ask again.
    let path = format!("{BASE}/{}/unfriend/", pest.id);
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&me.access), None)
            .await
            .0,
        204
    );
    assert_eq!(send(&app, &pest, json!({"user_id": me.id})).await.0, 201);
}

#[tokio::test]
async fn check_reports_friendship_and_pending_requests() {
    let app = TestApp::spawn().await;
    let a = app.user("dawn").await;
    let b = app.user("may").await;
    let path = format!("{BASE}/check/?user_id={}", b.id);
    let (_, body) = app.get_as(&path, &a.access).await;
    assert_eq!(
        body,
        json!({"user_id": b.id, "username": "may", "is_friends": false, "pending_request": null})
    );
    let (_, row) = send(&app, &a, json!({"user_id": b.id})).await;
    let (_, body) = app.get_as(&path, &a.access).await;
    assert_eq!(body["pending_request"]["id"], row["id"]);
    respond(&app, &b, &row["id"], "accept").await;
    let (_, body) = app.get_as(&path, &a.access).await;
    assert_eq!(body["is_friends"], true);

    let (status, body) = app.get_as(&format!("{BASE}/check/"), &a.access).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "user_id parameter required");
    let (status, body) = app
        .get_as(&format!("{BASE}/check/?user_id=nope"), &a.access)
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"user_id": ["Must be a valid UUID."]}))
    );
    let (status, _) = app
        .get_as(
            &format!("{BASE}/check/?user_id={}", uuid::Uuid::new_v4()),
            &a.access,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn strangers_cannot_see_or_touch_other_peoples_friendships() {
    let app = TestApp::spawn().await;
    let a = app.user("red").await;
    let b = app.user("blue").await;
    let eve = app.user("eve").await;
    let (_, row) = send(&app, &a, json!({"user_id": b.id})).await;
    let id = row["id"].as_str().unwrap();
    let (status, body) = app.get_as(&format!("{BASE}/{id}/"), &eve.access).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"detail": "No Friendship matches the given query."})
        )
    );
    assert_eq!(respond(&app, &eve, &row["id"], "accept").await.0, 404);
    let path = format!("{BASE}/{id}/unfriend/");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&eve.access), None)
            .await
            .0,
        404
    );
    let (_, list) = app.get_as(&format!("{BASE}/"), &eve.access).await;
    assert_eq!(list["count"], 0);
    for bad in [
        format!("{BASE}/nope/"),
        format!("{BASE}/nope/respond/"),
        format!("{BASE}/123/unfriend/"),
    ] {
        let method = if bad.ends_with("respond/") {
            Method::POST
        } else if bad.ends_with("unfriend/") {
            Method::DELETE
        } else {
            Method::GET
        };
        let (status, body) = app
            .call(
                method,
                &bad,
                Some(&eve.access),
                Some(json!({"action": "accept"})),
            )
            .await;
        assert_eq!(status, 404, "{bad}: {body}");
    }
    assert_eq!(
        app.call(Method::GET, &format!("{BASE}/friends/"), None, None)
            .await
            .0,
        401
    );
}
